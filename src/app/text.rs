//! What peerpulse says, and the small formatting helpers it says it with.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::schedule::{
    TeamSchedule, WeeklySlot, parse_time_of_day, parse_tz, parse_weekday, weekday_short,
};
use crate::store::teams::Team;

pub const HELP: &str = "peerpulse runs a one-click weekly check-in on workload. Answers are anonymous and \
only ever shown as team totals, never for fewer than the minimum group. Peers can ask for help \
and offer to take something on.";

pub const INVALID_ACTION: &str = "That button is not one I recognise, or it has expired.";

pub const NOT_A_TEAM: &str =
    "This channel is not a peerpulse team yet. Run `/pulse setup` here to make it one.";

pub const PROMPT_QUESTION: &str = "How heavy is your load this week?";

pub const PROMPT_PRIVACY: &str = "Your answer is stored without your name and only counts in the team's totals. \
Answers are final.";

pub const NOTE_HINT: &str = "To answer with a note, type `/pulse checkin <1-5> <note>`, for example \
`/pulse checkin 3 lots of interviews`. The note is stored without your name and shown, shuffled, \
only when enough people answered.";

pub const STRAIN_QUESTION: &str = "That sounds heavy. Want me to ask your teammates if someone can take \
something off your plate?";

/// The team's time zone and schedule, read from its stored settings.
pub fn schedule(team: &Team) -> (Tz, TeamSchedule) {
    let tz = parse_tz(&team.tz).unwrap_or(Tz::UTC);
    let slot = |day: &str, time: &str, fallback: WeeklySlot| match (
        parse_weekday(day),
        parse_time_of_day(time),
    ) {
        (Ok(day), Ok(time)) => WeeklySlot { day, time },
        _ => fallback,
    };
    let default = TeamSchedule::default();
    let schedule = TeamSchedule {
        checkin: slot(&team.checkin_day, &team.checkin_time, default.checkin),
        summary: slot(&team.summary_day, &team.summary_time, default.summary),
    };
    (tz, schedule)
}

/// A member's time zone: their own if set, else the team's.
pub fn member_tz(own: Option<&str>, team_tz: Tz) -> Tz {
    own.and_then(|tz| parse_tz(tz).ok()).unwrap_or(team_tz)
}

/// `Fri 27 Nov 16:00 (Europe/Berlin)`
pub fn when(at: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "{} ({})",
        at.with_timezone(&tz).format("%a %-d %b %H:%M"),
        tz.name()
    )
}

/// `Mon 10:00`
pub fn slot(slot: &WeeklySlot) -> String {
    let day = weekday_short(slot.day);
    let mut day = day.to_string();
    if let Some(first) = day.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    format!("{day} {}", slot.time.format("%H:%M"))
}

pub fn channel(team: &Team) -> String {
    if team.channel_name.starts_with('#') {
        team.channel_name.clone()
    } else {
        format!("#{}", team.channel_name)
    }
}

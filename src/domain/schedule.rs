//! Weekly schedules in IANA time zones: parsing days, times and zones as people type them,
//! turning a local date and time into an exact instant across DST gaps and folds, and finding
//! a team's check-in and summary instants (the latest, the next, and when a week's round closes).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a day is one of mon, tue, wed, thu, fri, sat, sun")]
pub struct InvalidWeekday;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a time is HH:MM on a 24-hour clock, such as 10:00")]
pub struct InvalidTimeOfDay;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone; use an IANA name such as Europe/Berlin")]
pub struct InvalidTimeZone;

/// The longest stretch of local time a zone has ever skipped, with room to spare
/// (Pacific/Apia skipped all of 2011-12-30).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// Reads `mon`..`sun` or the full English name, ignoring case and surrounding spaces.
pub fn parse_weekday(s: &str) -> Result<Weekday, InvalidWeekday> {
    match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Ok(Weekday::Mon),
        "tue" | "tuesday" => Ok(Weekday::Tue),
        "wed" | "wednesday" => Ok(Weekday::Wed),
        "thu" | "thursday" => Ok(Weekday::Thu),
        "fri" | "friday" => Ok(Weekday::Fri),
        "sat" | "saturday" => Ok(Weekday::Sat),
        "sun" | "sunday" => Ok(Weekday::Sun),
        _ => Err(InvalidWeekday),
    }
}

/// The short name [`parse_weekday`] reads back: `"mon"`..`"sun"`.
pub fn weekday_short(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// Reads `H:MM` or `HH:MM` on a 24-hour clock (`9:30`, `23:59`); no seconds, no am/pm.
pub fn parse_time_of_day(s: &str) -> Result<NaiveTime, InvalidTimeOfDay> {
    let (hours, minutes) = s.trim().split_once(':').ok_or(InvalidTimeOfDay)?;
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&hours.len())
        || minutes.len() != 2
        || !all_digits(hours)
        || !all_digits(minutes)
    {
        return Err(InvalidTimeOfDay);
    }
    let h = hours.parse().map_err(|_| InvalidTimeOfDay)?;
    let m = minutes.parse().map_err(|_| InvalidTimeOfDay)?;
    NaiveTime::from_hms_opt(h, m, 0).ok_or(InvalidTimeOfDay)
}

/// Reads an IANA zone name such as `Europe/Berlin` or `UTC` (case as in the tz database).
pub fn parse_tz(s: &str) -> Result<Tz, InvalidTimeZone> {
    s.trim().parse().map_err(|_| InvalidTimeZone)
}

/// The instant of a local date+time in `tz`: ambiguous (fall-back repeat) -> the earliest instant;
/// nonexistent (spring-forward gap) -> the first valid instant after the gap (02:30 in New York on
/// 2026-03-08 -> 03:00 EDT = 07:00 UTC).
pub fn resolve_local(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let wanted = date.and_time(time);
    if let Some(instant) = tz.from_local_datetime(&wanted).earliest() {
        return instant.with_timezone(&Utc);
    }
    // `wanted` is in a gap. The first whole minute after it that exists lies past the gap...
    let past_gap = (1..=MAX_GAP_MINUTES)
        .filter_map(|m| wanted.checked_add_signed(TimeDelta::minutes(m)))
        .find_map(|local| tz.from_local_datetime(&local).earliest());
    let Some(past_gap) = past_gap else {
        return wanted.and_utc(); // only at the ends of chrono's calendar
    };
    // ...and less than a minute after the transition, which we back up to: before it, local
    // time reads earlier than `wanted`. (Gaps off the minute exist in old LMT offsets.)
    let mut instant = past_gap.with_timezone(&Utc);
    while let Some(prev) = instant.checked_sub_signed(TimeDelta::seconds(1))
        && prev.with_timezone(&tz).naive_local() > wanted
    {
        instant = prev;
    }
    instant
}

/// Monday of the ISO week containing the local date of `instant` in `tz`.
pub fn week_monday(tz: Tz, instant: DateTime<Utc>) -> NaiveDate {
    let date = instant.with_timezone(&tz).date_naive();
    shift_days(date, -i64::from(date.weekday().num_days_from_monday())).unwrap_or(date)
}

fn shift_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    date.checked_add_signed(TimeDelta::try_days(days)?)
}

/// A day of the week and a local time of day, such as "fri 16:00".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklySlot {
    pub day: Weekday,
    pub time: NaiveTime,
}

impl WeeklySlot {
    /// The slot in the ISO week that starts on `monday` (local dates in tz).
    pub fn in_week(&self, tz: Tz, monday: NaiveDate) -> DateTime<Utc> {
        let offset = i64::from(self.day.num_days_from_monday());
        let date = shift_days(monday, offset).unwrap_or(monday); // only at the end of the calendar
        resolve_local(tz, date, self.time)
    }

    /// The latest slot instant <= now.
    pub fn latest_at_or_before(&self, tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
        // The slot two weeks back is always at or before `now`, two weeks ahead always after it.
        self.around(tz, now, -2..=1)
            .filter(|&t| t <= now)
            .max()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The earliest slot instant > after.
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> DateTime<Utc> {
        // The slot two weeks ahead is always after `after`, two weeks back always not.
        self.around(tz, after, -1..=2)
            .filter(|&t| t > after)
            .min()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The slot's instants in the weeks `weeks` away from the local week of `instant`.
    fn around(
        self,
        tz: Tz,
        instant: DateTime<Utc>,
        weeks: std::ops::RangeInclusive<i64>,
    ) -> impl Iterator<Item = DateTime<Utc>> {
        let monday = week_monday(tz, instant);
        weeks
            .filter_map(move |w| shift_days(monday, 7 * w))
            .map(move |m| self.in_week(tz, m))
    }
}

/// When a team is asked to check in, and when the summary of those answers is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamSchedule {
    pub checkin: WeeklySlot,
    pub summary: WeeklySlot,
}

impl TeamSchedule {
    /// When the round of the week starting `monday` closes: the first summary-slot instant strictly after
    /// that week's check-in instant (both in the team tz). E.g. check-in mon 10:00, summary fri 16:00 -> that Friday;
    /// check-in fri 10:00, summary mon 09:00 -> the following Monday.
    pub fn close_for_week(&self, tz: Tz, monday: NaiveDate) -> DateTime<Utc> {
        self.summary
            .next_after(tz, self.checkin.in_week(tz, monday))
    }
}

/// `hh:mm` as a constant; an out-of-range time fails to compile.
const fn clock(hours: u32, minutes: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hours, minutes, 0) {
        Some(time) => time,
        None => panic!("not a time of day"),
    }
}

impl Default for TeamSchedule {
    /// Check in on Monday at 10:00, summarise on Friday at 16:00.
    fn default() -> Self {
        const DEFAULT: TeamSchedule = TeamSchedule {
            checkin: WeeklySlot {
                day: Weekday::Mon,
                time: clock(10, 0),
            },
            summary: WeeklySlot {
                day: Weekday::Fri,
                time: clock(16, 0),
            },
        };
        DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::TZ_VARIANTS;
    use proptest::prelude::*;
    use proptest::sample::select;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid instant")
    }

    fn tz(name: &str) -> Tz {
        parse_tz(name).expect("known zone")
    }

    /// Every instant `next_after` yields on `date` (local), walking from two days before it.
    fn firings_on(tz: Tz, slot: WeeklySlot, date: NaiveDate) -> Vec<DateTime<Utc>> {
        let mut at = resolve_local(tz, date - TimeDelta::days(2), clock(0, 0));
        let end = resolve_local(tz, date + TimeDelta::days(2), clock(0, 0));
        let mut fired = Vec::new();
        while at < end {
            at = slot.next_after(tz, at);
            if at.with_timezone(&tz).date_naive() == date {
                fired.push(at);
            }
        }
        fired
    }

    #[test]
    fn ten_am_on_dst_days_resolves_exactly_and_fires_once() {
        let cases = [
            ("America/New_York", ymd(2026, 3, 8), utc(2026, 3, 8, 14, 0)), // EDT, -4
            (
                "America/New_York",
                ymd(2026, 11, 1),
                utc(2026, 11, 1, 15, 0),
            ), // EST, -5
            ("Europe/London", ymd(2026, 3, 29), utc(2026, 3, 29, 9, 0)),   // BST, +1
            ("Europe/London", ymd(2026, 10, 25), utc(2026, 10, 25, 10, 0)), // GMT, +0
            (
                "Australia/Melbourne",
                ymd(2026, 4, 5),
                utc(2026, 4, 5, 0, 0),
            ), // AEST, +10
        ];
        for (name, date, expected) in cases {
            let zone = tz(name);
            assert_eq!(
                resolve_local(zone, date, clock(10, 0)),
                expected,
                "{name} {date}"
            );
            let slot = WeeklySlot {
                day: date.weekday(),
                time: clock(10, 0),
            };
            assert_eq!(
                firings_on(zone, slot, date),
                vec![expected],
                "{name} {date}"
            );
            assert_eq!(slot.latest_at_or_before(zone, expected), expected);
            assert_eq!(slot.in_week(zone, week_monday(zone, expected)), expected);
        }
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_to_the_end_of_the_gap() {
        let ny = tz("America/New_York");
        assert_eq!(
            resolve_local(ny, ymd(2026, 3, 8), clock(2, 30)),
            utc(2026, 3, 8, 7, 0)
        );
        let slot = WeeklySlot {
            day: Weekday::Sun,
            time: clock(2, 30),
        };
        assert_eq!(
            firings_on(ny, slot, ymd(2026, 3, 8)),
            vec![utc(2026, 3, 8, 7, 0)]
        );
    }

    #[test]
    fn a_time_in_the_autumn_repeat_takes_the_first_one_and_fires_once() {
        let ny = tz("America/New_York");
        let first = utc(2026, 11, 1, 5, 30); // 01:30 EDT; 01:30 EST would be 06:30Z
        assert_eq!(resolve_local(ny, ymd(2026, 11, 1), clock(1, 30)), first);
        let slot = WeeklySlot {
            day: Weekday::Sun,
            time: clock(1, 30),
        };
        assert_eq!(firings_on(ny, slot, ymd(2026, 11, 1)), vec![first]);
        assert_eq!(slot.latest_at_or_before(ny, utc(2026, 11, 1, 6, 45)), first);
    }

    #[test]
    fn a_skipped_day_moves_to_the_first_instant_after_it() {
        // Samoa jumped from the end of 2011-12-29 (-10) to the start of 2011-12-31 (+14).
        let apia = tz("Pacific/Apia");
        assert_eq!(
            resolve_local(apia, ymd(2011, 12, 30), clock(10, 0)),
            utc(2011, 12, 30, 10, 0)
        );
    }

    #[test]
    fn weekdays_parse_in_short_and_long_form_and_print_short() {
        assert_eq!(parse_weekday("mon"), Ok(Weekday::Mon));
        assert_eq!(parse_weekday("Friday"), Ok(Weekday::Fri));
        assert_eq!(parse_weekday(" SUN "), Ok(Weekday::Sun));
        for bad in ["", "mo", "mond", "funday", "7"] {
            assert_eq!(parse_weekday(bad), Err(InvalidWeekday), "{bad:?}");
        }
        for day in [Weekday::Mon, Weekday::Wed, Weekday::Sat, Weekday::Sun] {
            assert_eq!(parse_weekday(weekday_short(day)), Ok(day));
        }
    }

    #[test]
    fn times_of_day_are_hours_and_minutes_on_a_24_hour_clock() {
        assert_eq!(parse_time_of_day("10:00"), Ok(clock(10, 0)));
        assert_eq!(parse_time_of_day("9:30"), Ok(clock(9, 30)));
        assert_eq!(parse_time_of_day("23:59"), Ok(clock(23, 59)));
        assert_eq!(parse_time_of_day("00:00"), Ok(clock(0, 0)));
        for bad in [
            "24:00", "10", "10:60", "10:00pm", "10:0", "+1:00", "100:00", "10:00:00", "",
        ] {
            assert_eq!(parse_time_of_day(bad), Err(InvalidTimeOfDay), "{bad:?}");
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(parse_tz("Europe/Berlin"), Ok(chrono_tz::Europe::Berlin));
        assert_eq!(parse_tz("UTC"), Ok(chrono_tz::UTC));
        assert_eq!(parse_tz("Mars/Base"), Err(InvalidTimeZone));
        assert_eq!(parse_tz(""), Err(InvalidTimeZone));
    }

    #[test]
    fn a_round_closes_at_the_first_summary_after_its_check_in() {
        let berlin = tz("Europe/Berlin");
        let default = TeamSchedule::default();
        assert_eq!(
            default.close_for_week(berlin, ymd(2026, 3, 2)),
            utc(2026, 3, 6, 15, 0)
        );
        let friday_to_monday = TeamSchedule {
            checkin: WeeklySlot {
                day: Weekday::Fri,
                time: clock(10, 0),
            },
            summary: WeeklySlot {
                day: Weekday::Mon,
                time: clock(9, 0),
            },
        };
        assert_eq!(
            friday_to_monday.close_for_week(berlin, ymd(2026, 3, 2)),
            utc(2026, 3, 9, 8, 0)
        );
        // Across the spring change: Monday 09:00 is CEST (+2).
        assert_eq!(
            friday_to_monday.close_for_week(berlin, ymd(2026, 3, 23)),
            utc(2026, 3, 30, 7, 0)
        );
        let same_slot = TeamSchedule {
            checkin: default.checkin,
            summary: default.checkin,
        };
        assert_eq!(
            same_slot.close_for_week(berlin, ymd(2026, 3, 2)),
            utc(2026, 3, 9, 9, 0)
        );
    }

    static WEEK: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        let (first, last) = (ymd(2020, 1, 1), ymd(2035, 12, 31));
        (0..=(last - first).num_days()).prop_map(move |d| first + TimeDelta::days(d))
    }

    fn any_slot() -> impl Strategy<Value = WeeklySlot> {
        (select(&WEEK[..]), 0u32..1440).prop_map(|(day, m)| WeeklySlot {
            day,
            time: clock(m / 60, m % 60),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn the_latest_slot_is_not_after_now_and_the_next_one_is(
            zone in select(&TZ_VARIANTS[..]), date in any_date(), secs in 0i64..86_400, slot in any_slot()
        ) {
            let now = date.and_time(clock(0, 0)).and_utc() + TimeDelta::seconds(secs);
            let latest = slot.latest_at_or_before(zone, now);
            prop_assert!(latest <= now);
            prop_assert!(slot.next_after(zone, latest) > now);
        }

        #[test]
        fn the_next_slot_is_later_but_within_eight_days_and_never_twice_a_week(
            zone in select(&TZ_VARIANTS[..]), date in any_date(), secs in 0i64..86_400, slot in any_slot()
        ) {
            let after = date.and_time(clock(0, 0)).and_utc() + TimeDelta::seconds(secs);
            let next = slot.next_after(zone, after);
            prop_assert!(next > after);
            prop_assert!(next - after <= TimeDelta::days(8));
            let following = slot.next_after(zone, next);
            prop_assert!(following - next >= TimeDelta::days(6));
        }

        #[test]
        fn a_resolved_instant_shows_the_requested_time_unless_it_was_skipped(
            zone in select(&TZ_VARIANTS[..]), date in any_date(), minute in 0u32..1440
        ) {
            let wanted = date.and_time(clock(minute / 60, minute % 60));
            let instant = resolve_local(zone, date, wanted.time());
            let shown = instant.with_timezone(&zone).naive_local();
            if zone.from_local_datetime(&wanted).earliest().is_some() {
                prop_assert_eq!(shown, wanted);
            } else {
                prop_assert!(shown > wanted);
                let before = (instant - TimeDelta::seconds(1)).with_timezone(&zone).naive_local();
                prop_assert!(before < wanted);
            }
        }
    }
}

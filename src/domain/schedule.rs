//! Weekly schedules in IANA time zones: parsing days, times and zones as people type them,
//! turning a local date and time into an exact instant across DST gaps and folds, and finding
//! a team's check-in and summary instants (the latest, the next, and when a week's round closes).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use std::ops::RangeInclusive;

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

/// Reads `mon`..`sun` or the full English name, ignoring case and surrounding spaces
/// (with chrono's parser, so `tues` and `thurs` are errors).
pub fn parse_weekday(s: &str) -> Result<Weekday, InvalidWeekday> {
    s.trim().parse().map_err(|_| InvalidWeekday)
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
    let digits = |part: &str, len: RangeInclusive<usize>| {
        len.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(hours, 1..=2) || !digits(minutes, 2..=2) {
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
        self.nearby(tz, now)
            .filter(|&t| t <= now)
            .max()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The earliest slot instant > after.
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> DateTime<Utc> {
        self.nearby(tz, after)
            .filter(|&t| t > after)
            .min()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The slot's instants from two weeks before the local week of `instant` to two weeks after.
    /// Clock changes move a slot by a day at most (Samoa, 2011), so the first is always at or
    /// before `instant` and the last always after it: the neighbours of `instant` are among these.
    fn nearby(self, tz: Tz, instant: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
        let monday = week_monday(tz, instant);
        (-2..=2)
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
    /// When the round of the week starting `monday` closes: the first summary-slot instant strictly
    /// after that week's check-in instant (both in the team tz). E.g. check-in mon 10:00, summary
    /// fri 16:00 -> that Friday; check-in fri 10:00, summary mon 09:00 -> the following Monday.
    pub fn close_for_week(&self, tz: Tz, monday: NaiveDate) -> DateTime<Utc> {
        let checkin = self.checkin.in_week(tz, monday);
        self.summary.next_after(tz, checkin)
    }
}

/// `hh:mm` for constants, where an out-of-range time fails to compile.
const fn clock(hours: u32, minutes: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hours, minutes, 0) {
        Some(time) => time,
        None => panic!("not a time of day"),
    }
}

const fn slot(day: Weekday, hours: u32, minutes: u32) -> WeeklySlot {
    let time = clock(hours, minutes);
    WeeklySlot { day, time }
}

impl Default for TeamSchedule {
    /// Check in on Monday at 10:00, summarise on Friday at 16:00.
    fn default() -> Self {
        const DEFAULT: TeamSchedule = TeamSchedule {
            checkin: slot(Weekday::Mon, 10, 0),
            summary: slot(Weekday::Fri, 16, 0),
        };
        DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, Offset};
    use chrono_tz::TZ_VARIANTS;
    use proptest::prelude::*;
    use proptest::sample::select;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn tz(name: &str) -> Tz {
        parse_tz(name).unwrap()
    }

    /// Every instant `next_after` yields on `date` (local), walking from two days before it.
    fn firings_on(tz: Tz, slot: WeeklySlot, date: NaiveDate) -> Vec<DateTime<Utc>> {
        let start = resolve_local(tz, date - TimeDelta::days(2), clock(0, 0));
        let walk = std::iter::successors(Some(start), |&at| Some(slot.next_after(tz, at)));
        let local_date = |at: &DateTime<Utc>| at.with_timezone(&tz).date_naive();
        let fired = walk.skip(1).take_while(|at| local_date(at) <= date);
        fired.filter(|at| local_date(at) == date).collect()
    }

    /// The wall-clock reading at `zone`'s first change of UTC offset within a year after `from`,
    /// as the clock read it just before the change (02:00 for New York's spring change).
    fn next_clock_change(zone: Tz, from: DateTime<Utc>) -> Option<NaiveDateTime> {
        let offset = |t: DateTime<Utc>| zone.offset_from_utc_datetime(&t.naive_utc()).fix();
        let changed = |t: &DateTime<Utc>| offset(*t) != offset(from);
        let day_after = (1..=366).map(|d| from + TimeDelta::days(d)).find(changed)?;
        let minutes_before = (0..=1440).map(|m| day_after - TimeDelta::minutes(m));
        let change = minutes_before.take_while(changed).last()?;
        let a_minute_before = change - TimeDelta::minutes(1);
        Some(a_minute_before.with_timezone(&zone).naive_local() + TimeDelta::minutes(1))
    }

    #[test]
    fn ten_am_on_dst_days_resolves_exactly_and_fires_once() {
        // (zone, the day the clocks change, the UTC hour of 10:00 local that day)
        let cases = [
            ("America/New_York", ymd(2026, 3, 8), 14),   // EDT, -4
            ("America/New_York", ymd(2026, 11, 1), 15),  // EST, -5
            ("Europe/London", ymd(2026, 3, 29), 9),      // BST, +1
            ("Europe/London", ymd(2026, 10, 25), 10),    // GMT, +0
            ("Australia/Melbourne", ymd(2026, 4, 5), 0), // AEST, +10
        ];
        for (name, date, hour) in cases {
            let (zone, ten) = (tz(name), slot(date.weekday(), 10, 0));
            let expected = utc(date.year(), date.month(), date.day(), hour, 0);
            assert_eq!(resolve_local(zone, date, ten.time), expected, "{name}");
            assert_eq!(firings_on(zone, ten, date), vec![expected], "{name}");
            assert_eq!(ten.latest_at_or_before(zone, expected), expected, "{name}");
            assert_eq!(ten.in_week(zone, week_monday(zone, expected)), expected);
        }
    }

    #[test]
    fn a_time_in_a_gap_moves_to_the_first_instant_after_the_gap() {
        let (ny, sunday) = (tz("America/New_York"), ymd(2026, 3, 8));
        let three_am_edt = utc(2026, 3, 8, 7, 0);
        assert_eq!(resolve_local(ny, sunday, clock(2, 30)), three_am_edt);
        let half_two = slot(Weekday::Sun, 2, 30);
        assert_eq!(firings_on(ny, half_two, sunday), vec![three_am_edt]);
        // Samoa went from the end of 2011-12-29 (-10) straight to 2011-12-31 (+14).
        let apia = tz("Pacific/Apia");
        let ten_on_the_30th = resolve_local(apia, ymd(2011, 12, 30), clock(10, 0));
        assert_eq!(ten_on_the_30th, utc(2011, 12, 30, 10, 0)); // 00:00 on the 31st
    }

    #[test]
    fn a_time_in_the_autumn_repeat_takes_the_first_one_and_fires_once() {
        let (ny, sunday) = (tz("America/New_York"), ymd(2026, 11, 1));
        let first = utc(2026, 11, 1, 5, 30); // 01:30 EDT; 01:30 EST would be 06:30Z
        assert_eq!(resolve_local(ny, sunday, clock(1, 30)), first);
        let half_one = slot(Weekday::Sun, 1, 30);
        assert_eq!(firings_on(ny, half_one, sunday), vec![first]);
        let second_half_one = utc(2026, 11, 1, 6, 45);
        assert_eq!(half_one.latest_at_or_before(ny, second_half_one), first);
    }

    #[test]
    fn weekdays_parse_in_short_and_long_form_and_print_short() {
        assert_eq!(parse_weekday("mon"), Ok(Weekday::Mon));
        assert_eq!(parse_weekday("Friday"), Ok(Weekday::Fri));
        assert_eq!(parse_weekday(" SUN "), Ok(Weekday::Sun));
        for bad in ["", "mo", "mond", "tues", "funday", "7"] {
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
        for text in [
            "24:00", "10", "10:60", "10:00pm", "10:0", "+1:00", "1:00:00", "",
        ] {
            assert_eq!(parse_time_of_day(text), Err(InvalidTimeOfDay), "{text:?}");
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
        let (berlin, monday) = (tz("Europe/Berlin"), ymd(2026, 3, 2));
        let close = |checkin, summary, monday| {
            TeamSchedule { checkin, summary }.close_for_week(berlin, monday)
        };
        let TeamSchedule { checkin, summary } = TeamSchedule::default(); // mon 10:00, fri 16:00
        assert_eq!(close(checkin, summary, monday), utc(2026, 3, 6, 15, 0));
        let (fri_ten, mon_nine) = (slot(Weekday::Fri, 10, 0), slot(Weekday::Mon, 9, 0));
        assert_eq!(close(fri_ten, mon_nine, monday), utc(2026, 3, 9, 8, 0));
        assert_eq!(close(checkin, checkin, monday), utc(2026, 3, 9, 9, 0)); // the next week's
        let spring = ymd(2026, 3, 23); // that Friday is CET (+1), the Monday after CEST (+2)
        assert_eq!(close(fri_ten, mon_nine, spring), utc(2026, 3, 30, 7, 0));
    }

    /// Any second from 2020-01-01 to 2035-12-31.
    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        let (first, end) = (utc(2020, 1, 1, 0, 0), utc(2036, 1, 1, 0, 0));
        (0..(end - first).num_seconds()).prop_map(move |s| first + TimeDelta::seconds(s))
    }

    fn any_slot() -> impl Strategy<Value = WeeklySlot> {
        (0u8..7, 0u32..1440).prop_map(|(d, m)| slot(Weekday::try_from(d).unwrap(), m / 60, m % 60))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn the_latest_slot_is_not_after_now_and_the_next_one_is(
            zone in select(&TZ_VARIANTS[..]), now in any_instant(), slot in any_slot()
        ) {
            let latest = slot.latest_at_or_before(zone, now);
            prop_assert!(latest <= now);
            prop_assert!(slot.next_after(zone, latest) > now);
        }

        #[test]
        fn the_next_slot_is_later_but_within_eight_days_and_never_twice_a_week(
            zone in select(&TZ_VARIANTS[..]), after in any_instant(), slot in any_slot()
        ) {
            let next = slot.next_after(zone, after);
            prop_assert!(next > after);
            prop_assert!(next - after <= TimeDelta::days(8));
            prop_assert!(slot.next_after(zone, next) - next >= TimeDelta::days(6));
        }

        #[test]
        fn a_resolved_instant_shows_the_requested_time_unless_it_was_skipped(
            zone in select(&TZ_VARIANTS[..]), from in any_instant(), minute in 0u32..1440,
            near_a_change in any::<bool>(), shift in -90i64..90
        ) {
            // Half the cases are within 90 minutes of a clock change, where the gaps and repeats are.
            let wanted = match next_clock_change(zone, from) {
                Some(change) if near_a_change => change + TimeDelta::minutes(shift),
                _ => from.date_naive().and_time(clock(minute / 60, minute % 60)),
            };
            let instant = resolve_local(zone, wanted.date(), wanted.time());
            let shown = instant.with_timezone(&zone).naive_local();
            if zone.from_local_datetime(&wanted).earliest().is_some() {
                prop_assert_eq!(shown, wanted);
            } else {
                prop_assert!(shown > wanted);
                let just_before = instant - TimeDelta::seconds(1);
                prop_assert!(just_before.with_timezone(&zone).naive_local() < wanted);
            }
        }
    }
}

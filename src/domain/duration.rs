//! Durations as people type them (`30m`, `24h`, `2w`) and pause requests (`2w`, `until 2026-12-24`).

use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a duration is a number followed by s, m, h, d or w, such as 30m, 24h or 2w")]
pub struct InvalidDuration;

/// Parses `90s`, `30m`, `24h`, `3d`, `2w` (one unit, positive, at most 5 years).
pub fn parse_duration(text: &str) -> Result<TimeDelta, InvalidDuration> {
    let text = text.trim();
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or(InvalidDuration)?;
    let (digits, unit) = text.split_at(unit_at);
    let n: i64 = digits.parse().map_err(|_| InvalidDuration)?;
    let seconds_per_unit = match unit.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        "w" | "wk" | "week" | "weeks" => 604_800,
        _ => return Err(InvalidDuration),
    };
    let seconds = n.checked_mul(seconds_per_unit).ok_or(InvalidDuration)?;
    if n == 0 || seconds > 5 * 366 * 86_400 {
        return Err(InvalidDuration);
    }
    Ok(TimeDelta::seconds(seconds))
}

/// Formats a duration the way [`parse_duration`] reads it, in its largest whole unit.
pub fn format_duration(d: TimeDelta) -> String {
    let s = d.num_seconds();
    for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s >= size && s % size == 0 {
            return format!("{}{unit}", s / size);
        }
    }
    format!("{s}s")
}

/// Deserializes a config value such as `"24h"`.
pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<TimeDelta, D::Error> {
    let text = String::deserialize(de)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

/// How long a member pauses: `/pulse pause 2w` or `/pulse pause until 2026-12-24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseSpec {
    For(TimeDelta),
    /// Paused through the end of this (local) date.
    Until(NaiveDate),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("say how long, like `2w`, `3d` or `until 2026-12-24`")]
pub struct InvalidPause;

impl PauseSpec {
    pub fn parse(text: &str) -> Result<Self, InvalidPause> {
        let text = text.trim();
        if let Some(date) = text.strip_prefix("until") {
            let date =
                NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| InvalidPause)?;
            return Ok(PauseSpec::Until(date));
        }
        let d = parse_duration(text).map_err(|_| InvalidPause)?;
        if d > TimeDelta::days(366) {
            return Err(InvalidPause);
        }
        Ok(PauseSpec::For(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_type_them() {
        assert_eq!(parse_duration("30m"), Ok(TimeDelta::minutes(30)));
        assert_eq!(parse_duration("24h"), Ok(TimeDelta::hours(24)));
        assert_eq!(parse_duration("2w"), Ok(TimeDelta::weeks(2)));
        for bad in [
            "",
            "w",
            "2",
            "0d",
            "-1d",
            "2y",
            "1.5h",
            "99999999999999999w",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(TimeDelta::hours(24)), "1d");
        assert_eq!(format_duration(TimeDelta::minutes(90)), "90m");
    }

    #[test]
    fn pauses_take_a_length_or_a_date() {
        assert_eq!(
            PauseSpec::parse("2w"),
            Ok(PauseSpec::For(TimeDelta::weeks(2)))
        );
        assert_eq!(
            PauseSpec::parse("until 2026-12-24"),
            Ok(PauseSpec::Until(
                NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()
            ))
        );
        for bad in ["", "forever", "until", "until 24/12/2026", "2y", "100w"] {
            assert!(PauseSpec::parse(bad).is_err(), "{bad}");
        }
    }
}

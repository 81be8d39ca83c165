//! The `/pulse` grammar: turns the text after `/pulse` into a typed [`Command`], or into a
//! [`UsageError`] sentence for the person plus the [`USAGE`] line. No I/O; no input panics.
//!
//! Words are split on whitespace and the subcommand is case-insensitive. The platform adapter
//! unescapes the text first (Slack sends `&amp;`, `&lt;`, `&gt;`).

use chrono::{NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;

use crate::domain::duration::{PauseSpec, parse_duration};
use crate::domain::schedule::{parse_time_of_day, parse_tz, parse_weekday};
use crate::domain::{LoadScore, MinGroupSize};

pub const USAGE: &str = "Usage: /pulse setup [day=mon] [time=10:00] [tz=Europe/Berlin] [summary_day=fri] [summary_time=16:00] | join | leave | checkin [1-5 [note]] | ask | capacity [on|off] | pause 2w|until 2026-12-24 | resume | tz [Europe/Berlin] | summary | me | forget-me | start | close | config [min-group N | resources TEXT | reminder 24h | fanout N | streak N] | help";

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Setup(SetupArgs),
    Join,
    Leave,
    /// `checkin` alone shows the prompt; `checkin 4 too many meetings` answers.
    Checkin(Option<CheckinAnswer>),
    Ask,
    /// `None`: show or turn on (the caller decides); `Some`: `on` / `off`.
    Capacity(Option<bool>),
    Pause(PauseSpec),
    Resume,
    /// `None`: show the current zone.
    Tz(Option<Tz>),
    Summary,
    Me,
    ForgetMe,
    Start,
    Close,
    Config(ConfigChange),
    Help,
}

/// `setup` options; `None` keeps the current (or default) value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SetupArgs {
    pub day: Option<Weekday>,
    pub time: Option<NaiveTime>,
    pub tz: Option<Tz>,
    pub summary_day: Option<Weekday>,
    pub summary_time: Option<NaiveTime>,
}

/// An answer typed as a command. Its `Debug` form hides the score and the note, so that a
/// logged command never shows what someone answered.
#[derive(Clone, PartialEq)]
pub struct CheckinAnswer {
    pub score: LoadScore,
    pub note: Option<Note>,
}

/// A short free-text note: trimmed, 1..=280 chars. Tabs and line breaks become spaces; other
/// control characters and bidirectional overrides (which can disguise text) are removed.
#[derive(Clone, PartialEq)]
pub struct Note(String);

impl std::fmt::Debug for CheckinAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckinAnswer(..)")
    }
}

impl std::fmt::Debug for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Note(..)")
    }
}

impl Note {
    pub const MAX_CHARS: usize = 280;

    pub fn parse(text: &str) -> Result<Note, UsageError> {
        let cleaned: String = text
            .chars()
            .filter_map(|c| match c {
                '\t' | '\n' | '\r' => Some(' '),
                '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => None,
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect();
        let note = cleaned.trim();
        match note.chars().count() {
            0 => Err(fail("A note needs at least one visible character.")),
            n if n > Self::MAX_CHARS => Err(fail(format!(
                "A note can be at most {} characters; yours has {n}.",
                Self::MAX_CHARS
            ))),
            _ => Ok(Note(note.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConfigChange {
    Show,
    MinGroup(MinGroupSize),
    /// 1..=500 characters, verbatim apart from surrounding whitespace.
    Resources(String),
    /// 1 hour ..= 6 days after the prompt.
    ReminderAfter(TimeDelta),
    /// 1..=50 peers nudged per ask.
    Fanout(u32),
    /// 1..=12 strained rounds in a row before the personal signal.
    Streak(u32),
}

/// Malformed input: a short sentence for the person, shown privately with [`USAGE`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
}

impl UsageError {
    /// The message followed by the usage line.
    pub fn reply_text(&self) -> String {
        format!("{}\n{USAGE}", self.message)
    }
}

/// Parses the text after `/pulse`. Empty text is [`Command::Help`].
pub fn parse(text: &str) -> Result<Command, UsageError> {
    let mut words = text.split_whitespace();
    let Some(first) = words.next() else {
        return Ok(Command::Help);
    };
    let args: Vec<&str> = words.collect();
    let name = first.to_lowercase();
    let bare = |command| match args.first() {
        None => Ok(command),
        Some(extra) => Err(unexpected(extra, &name)),
    };
    match name.as_str() {
        // `help setup` is someone asking for help: show it rather than scold.
        "help" => Ok(Command::Help),
        "setup" => parse_setup(&args).map(Command::Setup),
        "join" => bare(Command::Join),
        "leave" => bare(Command::Leave),
        "checkin" | "check-in" => parse_checkin(text, &args),
        "ask" => bare(Command::Ask),
        "capacity" => match args.as_slice() {
            [] => Ok(Command::Capacity(None)),
            [flag] if flag.eq_ignore_ascii_case("on") => Ok(Command::Capacity(Some(true))),
            [flag] if flag.eq_ignore_ascii_case("off") => Ok(Command::Capacity(Some(false))),
            [flag] => Err(not(flag, "`on` or `off`")),
            [_, extra, ..] => Err(unexpected(extra, "capacity")),
        },
        "pause" => parse_pause(rest_after(text, 1)),
        "resume" => bare(Command::Resume),
        "tz" => match args.as_slice() {
            [] => Ok(Command::Tz(None)),
            [zone] => time_zone(zone).map(|tz| Command::Tz(Some(tz))),
            [_, extra, ..] => Err(unexpected(extra, "tz")),
        },
        "summary" => bare(Command::Summary),
        "me" => bare(Command::Me),
        "forget-me" | "forgetme" => bare(Command::ForgetMe),
        "start" => bare(Command::Start),
        "close" => bare(Command::Close),
        "config" => parse_config(text, &args).map(Command::Config),
        _ => Err(fail(format!("Unknown command {}.", quote(first)))),
    }
}

fn parse_setup(args: &[&str]) -> Result<SetupArgs, UsageError> {
    let mut setup = SetupArgs::default();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            let hint = "an option; setup options look like `day=mon`";
            return Err(not(arg, hint));
        };
        match key.to_lowercase().replace('-', "_").as_str() {
            "day" => set_once(&mut setup.day, key, value, weekday)?,
            "time" => set_once(&mut setup.time, key, value, time_of_day)?,
            "tz" => set_once(&mut setup.tz, key, value, time_zone)?,
            "summary_day" => set_once(&mut setup.summary_day, key, value, weekday)?,
            "summary_time" => set_once(&mut setup.summary_time, key, value, time_of_day)?,
            _ => {
                let hint = "a setup option; use day, time, tz, summary_day or summary_time";
                return Err(not(key, hint));
            }
        }
    }
    Ok(setup)
}

fn set_once<T>(
    slot: &mut Option<T>,
    key: &str,
    value: &str,
    parse: fn(&str) -> Result<T, UsageError>,
) -> Result<(), UsageError> {
    if slot.is_some() {
        return Err(fail(format!("{} is given twice; say it once.", quote(key))));
    }
    if value.is_empty() {
        return Err(fail(format!("{} needs a value after `=`.", quote(key))));
    }
    *slot = Some(parse(value)?);
    Ok(())
}

fn weekday(value: &str) -> Result<Weekday, UsageError> {
    parse_weekday(value).map_err(|_| not(value, "a day; use mon, tue, wed, thu, fri, sat or sun"))
}

fn time_of_day(value: &str) -> Result<NaiveTime, UsageError> {
    parse_time_of_day(value).map_err(|_| not(value, "a time of day; use 24-hour time like 10:00"))
}

fn time_zone(value: &str) -> Result<Tz, UsageError> {
    let hint = "a time zone I know; use an IANA name such as Europe/Berlin";
    parse_tz(value).map_err(|_| not(value, hint))
}

fn parse_checkin(text: &str, args: &[&str]) -> Result<Command, UsageError> {
    let Some(word) = args.first() else {
        return Ok(Command::Checkin(None));
    };
    let hint = "a load score; answer with a whole number from 1 (light) to 5 (overwhelmed)";
    let score = word.parse::<LoadScore>().map_err(|_| not(word, hint))?;
    let note = match rest_after(text, 2) {
        "" => None,
        rest => Some(Note::parse(rest)?),
    };
    Ok(Command::Checkin(Some(CheckinAnswer { score, note })))
}

fn parse_pause(spec: &str) -> Result<Command, UsageError> {
    if spec.is_empty() {
        return Err(fail(
            "`pause` needs a length: `pause 2w` or `pause until 2026-12-24`.",
        ));
    }
    // Lengths and dates are ASCII, so lowercasing only makes `UNTIL` and `2W` readable.
    let hint = "a pause length; say `2w`, `3d` (up to a year) or `until 2026-12-24`";
    PauseSpec::parse(&spec.to_ascii_lowercase())
        .map(Command::Pause)
        .map_err(|_| not(spec, hint))
}

fn parse_config(text: &str, args: &[&str]) -> Result<ConfigChange, UsageError> {
    let Some(first) = args.first() else {
        return Ok(ConfigChange::Show);
    };
    // `min-group=4` (as `setup` takes its options) means `min-group 4`.
    let (word, inline) = match first.split_once('=') {
        Some((key, value)) => (key, Some(value)),
        None => (*first, None),
    };
    let key = match word.to_lowercase().replace('_', "-").as_str() {
        "min-group-size" => "min-group".to_string(),
        key => key.to_string(),
    };
    let example = match key.as_str() {
        "resources" => {
            return resources(match inline {
                Some(_) => text.split_once('=').map_or("", |(_, rest)| rest.trim()),
                None => rest_after(text, 2),
            });
        }
        "min-group" | "fanout" => "5",
        "reminder" => "24h",
        "streak" => "3",
        _ => {
            let hint = "a setting; use min-group, resources, reminder, fanout or streak";
            return Err(not(word, hint));
        }
    };
    let value = match (inline, args) {
        (Some(_), [_, extra, ..]) => return Err(unexpected(extra, &format!("config {key}"))),
        (Some(value), _) if !value.is_empty() => value,
        (None, [_, value]) => *value,
        (None, [_, _, extra, ..]) => return Err(unexpected(extra, &format!("config {key}"))),
        _ => {
            return Err(fail(format!(
                "`config {key}` needs a value, like `config {key} {example}`."
            )));
        }
    };
    match key.as_str() {
        "min-group" => min_group(value).map(ConfigChange::MinGroup),
        "reminder" => reminder(value).map(ConfigChange::ReminderAfter),
        "fanout" => bounded("fanout", value, 50).map(ConfigChange::Fanout),
        _ => bounded("streak", value, 12).map(ConfigChange::Streak),
    }
}

fn min_group(value: &str) -> Result<MinGroupSize, UsageError> {
    let floor = MinGroupSize::FLOOR;
    let hint = format!("a minimum group size; it is a whole number of at least {floor}");
    let size = value.parse().ok().and_then(|n| MinGroupSize::new(n).ok());
    size.ok_or_else(|| not(value, &hint))
}

fn reminder(value: &str) -> Result<TimeDelta, UsageError> {
    let allowed = TimeDelta::hours(1)..=TimeDelta::days(6);
    let after = parse_duration(value)
        .ok()
        .filter(|after| allowed.contains(after));
    after.ok_or_else(|| not(value, "a reminder delay; use 1h to 6d, like `24h`"))
}

fn bounded(setting: &str, value: &str, max: u32) -> Result<u32, UsageError> {
    match value.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(not(
            value,
            &format!("a valid {setting}; use a whole number from 1 to {max}"),
        )),
    }
}

fn resources(text: &str) -> Result<ConfigChange, UsageError> {
    const MAX: usize = 500;
    match text.chars().count() {
        0 => Err(fail(
            "`config resources` needs the text to show, such as a link to your employee-assistance programme.",
        )),
        n if n > MAX => Err(fail(format!(
            "The resources text can be at most {MAX} characters; yours has {n}."
        ))),
        _ => Ok(ConfigChange::Resources(text.to_owned())),
    }
}

fn fail(message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
    }
}

/// "`VALUE` is not WHAT."
fn not(value: &str, what: &str) -> UsageError {
    fail(format!("{} is not {what}.", quote(value)))
}

fn unexpected(extra: &str, after: &str) -> UsageError {
    fail(format!("Unexpected {} after `{after}`.", quote(extra)))
}

/// The text after the first `words` words, verbatim but trimmed.
fn rest_after(text: &str, words: usize) -> &str {
    let mut rest = text.trim_start();
    for _ in 0..words {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest.trim_end()
}

/// Echoes input in backticks: at most 40 characters, without backticks or control characters.
fn quote(text: &str) -> String {
    let mut chars = text.chars().filter(|c| *c != '`' && !c.is_control());
    let shown: String = chars.by_ref().take(40).collect();
    let more = if chars.next().is_some() { "…" } else { "" };
    format!("`{shown}{more}`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Command::*;
    use proptest::prelude::*;

    fn assert_parses(cases: Vec<(&str, Command)>) {
        for (text, expected) in cases {
            assert_eq!(parse(text), Ok(expected), "{text:?}");
        }
    }

    /// One case a line: `input => the start of the error message`.
    fn assert_errors(table: &str) {
        for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (text, start) = line.split_once(" => ").expect("a table row");
            let message = parse(text).map_err(|e| e.message);
            assert!(
                message.as_ref().is_err_and(|m| m.starts_with(start)),
                "{text:?}: {message:?}"
            );
        }
    }

    fn answer(score: i64, note: Option<&str>) -> Command {
        let score = LoadScore::try_from(score).expect("a valid score");
        let note = note.map(|n| Note(n.to_owned()));
        Checkin(Some(CheckinAnswer { score, note }))
    }

    const BARE: &str = "join leave ask resume summary me forget-me start close";

    #[test]
    fn empty_text_help_and_bare_commands_parse_in_any_case() {
        let commands = [Join, Leave, Ask, Resume, Summary, Me, ForgetMe];
        let mut cases: Vec<_> = BARE
            .split(' ')
            .zip(commands.into_iter().chain([Start, Close]))
            .collect();
        cases.extend([("", Help), ("help setup", Help), (" HELP ", Help)]);
        cases.extend([(" ASK ", Ask), ("ForgetMe", ForgetMe)]);
        assert_parses(cases);
    }

    #[test]
    fn unknown_commands_and_extra_arguments_are_named() {
        for name in BARE.split(' ') {
            assert_errors(&format!("{name} now => Unexpected `now` after `{name}`."));
        }
        assert_errors(
            "frobnicate => Unknown command `frobnicate`.\n`rm` -rf => Unknown command `rm`.",
        );
        let long = format!("Unknown command `{}…`.", "x".repeat(40));
        assert_eq!(parse(&"x".repeat(300)).map_err(|e| e.message), Err(long));
    }

    #[test]
    fn setup_options_come_in_any_order_and_case() {
        let text = "setup summary_time=15:00 tz=Europe/Berlin DAY=tue summary-day=thu time=09:30";
        let expected = SetupArgs {
            day: Some(Weekday::Tue),
            time: NaiveTime::from_hms_opt(9, 30, 0),
            tz: Some(chrono_tz::Europe::Berlin),
            summary_day: Some(Weekday::Thu),
            summary_time: NaiveTime::from_hms_opt(15, 0, 0),
        };
        assert_parses(vec![
            (text, Setup(expected)),
            ("setup", Setup(SetupArgs::default())),
        ]);
    }

    #[test]
    fn setup_errors_name_the_option_or_value_at_fault() {
        assert_errors(
            "setup colour=red => `colour` is not a setup option; use day, time, tz, summary_day or
            setup day=mon time=10:00 day=tue => `day` is given twice; say it once.
            setup mon => `mon` is not an option; setup options look like `day=mon`.
            setup time= => `time` needs a value after `=`.
            setup day=someday => `someday` is not a day; use mon, tue,
            setup summary_time=25:00 => `25:00` is not a time of day;
            setup tz=Mars/Base => `Mars/Base` is not a time zone I know; use an IANA name such as",
        );
    }

    #[test]
    fn checkin_alone_shows_the_prompt_and_with_a_score_answers() {
        let note = Some("too many meetings");
        let cases = [("checkin", Checkin(None)), ("check-in 1", answer(1, None))];
        assert_parses(
            [("CheckIn  4  too many\tmeetings ", answer(4, note))]
                .into_iter()
                .chain(cases)
                .collect(),
        );
        assert!(parse(&format!("checkin 3 {}", "é".repeat(280))).is_ok());
    }

    #[test]
    fn checkin_rejects_bad_scores_and_bad_notes() {
        assert_errors(
            "checkin 0 => `0` is not a load score; answer with a whole number from 1 (light) to 5
            checkin 6 fine => `6` is not a load score;
            checkin four => `four` is not a load score;
            checkin 3.5 => `3.5` is not a load score;
            checkin 2 \u{0}\u{200F} => A note needs at least one visible character.",
        );
        let too_long = format!(
            "checkin 3 {} => A note can be at most 280 characters; yours has 281.",
            "a".repeat(281)
        );
        assert_errors(&too_long);
        let note = Note::parse(" a\u{202E}b\u{7}c\r\nd ").map(Note::into_string);
        assert_eq!(note, Ok("abc  d".to_owned()));
        assert_eq!(Note::parse("fine").map(|n| n.as_str().len()), Ok(4));
    }

    #[test]
    fn capacity_pause_and_tz_take_one_optional_argument() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 24).expect("a real date");
        let new_york = Tz(Some(chrono_tz::America::New_York));
        assert_parses(vec![
            ("capacity", Capacity(None)),
            ("capacity ON", Capacity(Some(true))),
            ("capacity off", Capacity(Some(false))),
            ("pause 2w", Pause(PauseSpec::For(TimeDelta::weeks(2)))),
            ("Pause UNTIL 2026-12-24", Pause(PauseSpec::Until(date))),
            ("tz", Tz(None)),
            ("TZ America/New_York", new_york),
        ]);
    }

    #[test]
    fn capacity_pause_and_tz_reject_bad_or_extra_arguments() {
        assert_errors(
            "capacity maybe => `maybe` is not `on` or `off`.
            capacity on off => Unexpected `off` after `capacity`.
            pause => `pause` needs a length: `pause 2w` or `pause until 2026-12-24`.
            pause forever => `forever` is not a pause length; say `2w`, `3d` (up to a year) or
            pause 2w please => `2w please` is not a pause length;
            pause until tomorrow => `until tomorrow` is not a pause length;
            pause 100w => `100w` is not a pause length;
            tz Mars/Base => `Mars/Base` is not a time zone I know;
            tz Europe/Berlin now => Unexpected `now` after `tz`.",
        );
    }

    #[test]
    fn config_shows_or_changes_one_setting() {
        let five = MinGroupSize::new(5).expect("5 is allowed");
        let a_day = TimeDelta::days(1);
        let text = "config  resources   Call  EAP: https://eap.example/?a=1&b=2 \n ";
        let resources = "Call  EAP: https://eap.example/?a=1&b=2".to_owned();
        assert_parses(vec![
            ("config", Config(ConfigChange::Show)),
            ("config min-group 5", Config(ConfigChange::MinGroup(five))),
            (
                "config Reminder 24h",
                Config(ConfigChange::ReminderAfter(a_day)),
            ),
            ("config fanout 50", Config(ConfigChange::Fanout(50))),
            ("config streak 1", Config(ConfigChange::Streak(1))),
            (text, Config(ConfigChange::Resources(resources))),
            ("config min-group=5", Config(ConfigChange::MinGroup(five))),
            (
                "config min_group_size=5",
                Config(ConfigChange::MinGroup(five)),
            ),
            (
                "config MIN-GROUP-SIZE 5",
                Config(ConfigChange::MinGroup(five)),
            ),
            (
                "config resources= Call the EAP",
                Config(ConfigChange::Resources("Call the EAP".into())),
            ),
        ]);
    }

    #[test]
    fn config_rejects_unknown_settings_and_values_out_of_bounds() {
        assert_errors(
            "config colour red => `colour` is not a setting; use min-group, resources, reminder,
            config fanout => `config fanout` needs a value, like `config fanout 5`.
            config streak 3 4 => Unexpected `4` after `config streak`.
            config min-group 2 => `2` is not a minimum group size; it is a whole number of at least 3.
            config min-group few => `few` is not a minimum group size;
            config min-group 5000 => `5000` is not a minimum group size;
            config reminder 30m => `30m` is not a reminder delay; use 1h to 6d, like `24h`.
            config reminder 7d => `7d` is not a reminder delay;
            config reminder soon => `soon` is not a reminder delay;
            config fanout 0 => `0` is not a valid fanout; use a whole number from 1 to 50.
            config fanout 51 => `51` is not a valid fanout;
            config streak 13 => `13` is not a valid streak; use a whole number from 1 to 12.
            config resources => `config resources` needs the text to show
            config min-group= => `config min-group` needs a value, like `config min-group 5`.
            config min-group=2 => `2` is not a minimum group size; it is a whole number of at least 3.
            config min-group=5 6 => Unexpected `6` after `config min-group`.
            config colour=red => `colour` is not a setting;",
        );
        let r = "r".repeat(501);
        assert_errors(&format!(
            "config resources {r} => The resources text can be at most 500 characters; yours has 501."
        ));
    }

    #[test]
    fn reply_text_is_the_message_then_the_usage_line() {
        let reply = parse("frobnicate").map_err(|e| e.reply_text());
        let expected = format!("Unknown command `frobnicate`.\n{USAGE}");
        assert_eq!(reply, Err(expected));
    }

    #[test]
    fn hundreds_of_characters_of_garbage_get_a_short_error() {
        let garbage = [
            "=".repeat(300),
            format!("setup {}", "day=".repeat(100)),
            format!("checkin {}", "9".repeat(400)),
            format!("pause until {}", "-".repeat(300)),
            format!("config {}", "\u{FFFF}\u{0}".repeat(200)),
            format!("tz {}", "/".repeat(300)),
            format!("config reminder {}w", "9".repeat(300)),
            "🙂".repeat(250),
        ];
        for text in &garbage {
            let message = parse(text).map_err(|e| e.message).expect_err(text);
            let short = !message.contains('\n') && message.chars().count() < 160;
            assert!(short, "{message}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
            if let Err(e) = parse(&text) {
                prop_assert!(!e.message.contains('\n'));
            }
        }

        #[test]
        fn parse_never_panics_after_a_known_command(
            name in prop::sample::select(vec!["setup", "checkin", "pause", "tz", "config"]),
            rest in any::<String>(),
        ) {
            let _ = parse(&format!("{name} {rest}"));
        }
    }
}

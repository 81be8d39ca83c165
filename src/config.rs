//! Layered configuration: built-in defaults, then `config/peerpulse.toml` (or
//! `PEERPULSE_CONFIG`), then `PEERPULSE__SECTION__KEY` environment variables, then
//! `PEERPULSE_DATABASE_URL` / `PEERPULSE_BIND`, then command-line flags.

use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::MinGroupSize;
use crate::domain::duration::{format_duration, parse_duration};
use crate::domain::schedule::{parse_time_of_day, parse_tz, parse_weekday};

pub const DEFAULT_PATH: &str = "config/peerpulse.toml";

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: Database,
    pub http: Http,
    pub teams: TeamDefaults,
    pub asks: Asks,
    pub scheduler: Scheduler,
    pub delivery: Delivery,
    pub console: Console,
    pub log: Log,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Database {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    pub bind: String,
}

/// Settings a new team starts with; each team's admin can change them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeamDefaults {
    pub timezone: String,
    pub checkin_day: String,
    pub checkin_time: String,
    pub summary_day: String,
    pub summary_time: String,
    pub min_group_size: i64,
    pub reminder_after: Span,
    pub nudge_fanout: i64,
    pub streak_threshold: i64,
    pub resources: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Asks {
    pub anonymous_delay_min: Span,
    pub anonymous_delay_max: Span,
    pub widen_after: Span,
    pub expire_after: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scheduler {
    pub tick_interval: Span,
    pub catch_up_grace: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    pub max_attempts: i64,
    pub backoff_base: Span,
    pub backoff_max: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Console {
    pub db: PathBuf,
    pub user: String,
    pub channel: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    pub filter: String,
    pub json: bool,
}

/// A duration written as people type it (`30m`, `24h`, `7d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub TimeDelta);

impl Span {
    fn of(text: &str) -> Span {
        Span(parse_duration(text).unwrap_or_default())
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::domain::duration::deserialize(d).map(Span)
    }
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: "sqlite://peerpulse.db".into(),
        }
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            bind: "127.0.0.1:3000".into(),
        }
    }
}

impl Default for TeamDefaults {
    fn default() -> Self {
        TeamDefaults {
            timezone: "UTC".into(),
            checkin_day: "mon".into(),
            checkin_time: "10:00".into(),
            summary_day: "fri".into(),
            summary_time: "16:00".into(),
            min_group_size: MinGroupSize::DEFAULT.get() as i64,
            reminder_after: Span::of("24h"),
            nudge_fanout: 5,
            streak_threshold: 3,
            resources:
                "If work feels like too much, you are not alone. Talk to someone you trust, \
                        and check what support your organisation offers."
                    .into(),
        }
    }
}

impl Default for Asks {
    fn default() -> Self {
        Asks {
            anonymous_delay_min: Span::of("5m"),
            anonymous_delay_max: Span::of("30m"),
            widen_after: Span::of("24h"),
            expire_after: Span::of("7d"),
        }
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler {
            tick_interval: Span::of("30s"),
            catch_up_grace: Span::of("12h"),
        }
    }
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            max_attempts: 8,
            backoff_base: Span::of("2s"),
            backoff_max: Span::of("10m"),
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Console {
            db: PathBuf::from("peerpulse-local.db"),
            user: "me".into(),
            channel: "#general".into(),
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            filter: "info,sqlx=warn".into(),
            json: false,
        }
    }
}

impl Config {
    /// Reads the layers. A missing file at the default path is fine; a missing file that was
    /// asked for explicitly is an error.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let from_env = std::env::var_os("PEERPULSE_CONFIG").map(PathBuf::from);
        let path = explicit.map(Path::to_path_buf).or(from_env);
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match &path {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "config file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file(DEFAULT_PATH)),
        }
        figment = figment.merge(Env::prefixed("PEERPULSE__").split("__"));
        if let Ok(url) = std::env::var("PEERPULSE_DATABASE_URL") {
            figment = figment.merge(Serialized::default("database.url", url));
        }
        if let Ok(bind) = std::env::var("PEERPULSE_BIND") {
            figment = figment.merge(Serialized::default("http.bind", bind));
        }
        let config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("config: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let t = &self.teams;
        parse_tz(&t.timezone).map_err(|e| anyhow::anyhow!("teams.timezone: {e}"))?;
        for (key, day) in [
            ("checkin_day", &t.checkin_day),
            ("summary_day", &t.summary_day),
        ] {
            parse_weekday(day).map_err(|e| anyhow::anyhow!("teams.{key}: {e}"))?;
        }
        for (key, time) in [
            ("checkin_time", &t.checkin_time),
            ("summary_time", &t.summary_time),
        ] {
            parse_time_of_day(time).map_err(|e| anyhow::anyhow!("teams.{key}: {e}"))?;
        }
        MinGroupSize::new(t.min_group_size)
            .map_err(|e| anyhow::anyhow!("teams.min_group_size: {e}"))?;
        anyhow::ensure!(
            (1..=50).contains(&t.nudge_fanout),
            "teams.nudge_fanout: 1 to 50"
        );
        anyhow::ensure!(
            (1..=12).contains(&t.streak_threshold),
            "teams.streak_threshold: 1 to 12"
        );
        let a = &self.asks;
        anyhow::ensure!(
            a.anonymous_delay_min.0 <= a.anonymous_delay_max.0,
            "asks.anonymous_delay_min must not exceed asks.anonymous_delay_max"
        );
        anyhow::ensure!(
            self.delivery.max_attempts >= 1,
            "delivery.max_attempts: at least 1"
        );
        Ok(())
    }
}

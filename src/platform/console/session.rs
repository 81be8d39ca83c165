//! One console session: reads lines as a person would type them in chat, plus the console
//! verbs `/as`, `/in`, `/click`, `/clock` and `/quit`, and runs the real bot behind them.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use crate::app::{self, Actor, App, ChannelRef, EventKind, Inbound, Workspace};
use crate::clock::ManualClock;
use crate::config::Config;
use crate::domain::action::Action;
use crate::domain::command;
use crate::domain::duration::parse_duration;
use crate::domain::schedule::{WeeklySlot, parse_time_of_day, parse_weekday};
use crate::{outbox, scheduler, store};

use super::{ConsoleChat, PLATFORM, WORKSPACE};

pub const VERBS: &str = "Console verbs: /as NAME (act as someone else), /in #CHANNEL (switch channel), \
/click ID (press a button), /clock +3d | +2h | +30m | next mon 09:00 | YYYY-MM-DDTHH:MM (move time forward; UTC), /quit. \
Everything else starting with /pulse goes to the bot.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

pub struct Session {
    app: App,
    clock: Arc<ManualClock>,
    chat: ConsoleChat,
    user: String,
    channel: String,
}

impl Session {
    /// Opens (or reopens) the workspace stored at `db_url`, with the clock at `start`.
    pub async fn open(
        config: Config,
        db_url: &str,
        start: DateTime<Utc>,
    ) -> anyhow::Result<Session> {
        let db = store::connect(db_url).await?;
        let clock = Arc::new(ManualClock::new(start));
        let user = config.console.user.clone();
        let channel = normalize_channel(&config.console.channel);
        let app = App::new(db.clone(), clock.clone(), Arc::new(config));
        Ok(Session {
            app,
            clock,
            chat: ConsoleChat::new(db),
            user,
            channel,
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// `@alice #team > `
    pub fn prompt(&self) -> String {
        format!("@{} {} > ", self.user, self.channel)
    }

    /// Handles one typed line and returns what it printed.
    pub async fn line(&mut self, line: &str) -> anyhow::Result<(Flow, Vec<String>)> {
        let line = line.trim();
        let mut notes = Vec::new();
        if line.is_empty() || line.starts_with('#') {
            return Ok((Flow::Continue, notes));
        }
        let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        match verb {
            "/quit" | "/exit" => return Ok((Flow::Quit, notes)),
            "/help" => notes.push(format!("({VERBS})")),
            "/as" => match normalize_name(rest) {
                Some(name) => {
                    self.user = name;
                    notes.push(format!("(you are @{})", self.user));
                }
                None => notes.push("(usage: /as NAME — letters, digits, . _ -; up to 32)".into()),
            },
            "/in" => match normalize_name(rest.trim_start_matches('#')) {
                Some(name) => {
                    self.channel = format!("#{name}");
                    notes.push(format!("(in {})", self.channel));
                }
                None => notes.push("(usage: /in #CHANNEL)".into()),
            },
            "/click" => {
                let Some(action) = self.button(rest).await? else {
                    notes.push(format!(
                        "(no button {rest}; buttons look like b12. Buttons in private replies \
                         last only while this workspace is open)"
                    ));
                    return Ok((Flow::Continue, notes));
                };
                let kind = match action.parse::<Action>() {
                    Ok(action) => EventKind::Action(action),
                    Err(_) => EventKind::BadAction,
                };
                self.send(kind).await?;
            }
            "/clock" => match parse_clock(rest, self.app.now()) {
                Some(target) if target >= self.app.now() => {
                    let mut printed = self.advance_to(target).await?;
                    notes.append(&mut printed);
                    notes.push(format!(
                        "(clock: {})",
                        target.format("%a %-d %b %Y %H:%M UTC")
                    ));
                    return Ok((Flow::Continue, notes));
                }
                Some(_) => notes.push("(the clock only moves forward)".into()),
                None => notes.push(
                    "(usage: /clock +3d | +2h | +30m | next mon 09:00 | YYYY-MM-DDTHH:MM)".into(),
                ),
            },
            "/pulse" => {
                let kind = match command::parse(rest) {
                    Ok(command) => EventKind::Command(command),
                    Err(error) => EventKind::BadCommand(error),
                };
                self.send(kind).await?;
            }
            _ if verb.starts_with('/') => notes.push(format!(
                "(unknown command {verb}; try /pulse help or /help)"
            )),
            _ => notes
                .push("(peerpulse reads /pulse commands; /help lists the console verbs)".into()),
        }
        notes.extend(self.settle().await?);
        Ok((Flow::Continue, notes))
    }

    async fn button(&self, id: &str) -> anyhow::Result<Option<String>> {
        let Some(n) = id.strip_prefix('b').and_then(|n| n.parse::<i64>().ok()) else {
            return Ok(None);
        };
        Ok(self.chat.action_of(n).await?)
    }

    async fn send(&self, kind: EventKind) -> anyhow::Result<()> {
        let event = Inbound {
            workspace: Workspace {
                platform: PLATFORM.into(),
                external_id: WORKSPACE.into(),
            },
            actor: Actor {
                user_id: self.user.clone(),
                name: self.user.clone(),
                ..Actor::default()
            },
            channel: ChannelRef {
                id: self.channel.clone(),
                name: self.channel.clone(),
            },
            key: None,
            origin: None,
            kind,
        };
        app::handle(&self.app, event).await
    }

    /// Runs what is due now and delivers what that caused.
    async fn settle(&self) -> anyhow::Result<Vec<String>> {
        scheduler::tick(&self.app).await?;
        outbox::deliver_due(&self.app, &self.chat).await?;
        Ok(self.chat.drain())
    }

    /// Moves the clock to `target` through every instant at which something falls due, as
    /// a bot running all along would have.
    async fn advance_to(&self, target: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
        let mut printed = self.settle().await?;
        while let Some(next) = scheduler::next_due(&self.app, self.app.now()).await? {
            if next > target {
                break;
            }
            self.clock.set(next);
            printed.extend(self.settle().await?);
        }
        self.clock.set(target);
        printed.extend(self.settle().await?);
        Ok(printed)
    }
}

fn normalize_name(text: &str) -> Option<String> {
    let name = text.trim().trim_start_matches('@');
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then(|| name.to_ascii_lowercase())
}

fn normalize_channel(text: &str) -> String {
    format!(
        "#{}",
        normalize_name(text.trim_start_matches('#')).unwrap_or_else(|| "general".into())
    )
}

/// `+3d`, `+2h`, `+30m` from now, `next mon 09:00` (the next such moment, UTC), or an
/// absolute `YYYY-MM-DDTHH:MM` in UTC.
pub fn parse_clock(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some(delta) = text.strip_prefix('+') {
        return parse_duration(delta).ok().map(|d: TimeDelta| now + d);
    }
    if let Some(rest) = text.strip_prefix("next ") {
        let (day, time) = rest.trim().split_once(char::is_whitespace)?;
        let slot = WeeklySlot {
            day: parse_weekday(day).ok()?,
            time: parse_time_of_day(time.trim()).ok()?,
        };
        return Some(slot.next_after(chrono_tz::Tz::UTC, now));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|t| t.and_utc())
}

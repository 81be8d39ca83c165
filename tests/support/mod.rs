//! Test helpers: a console workspace on its own temporary SQLite file, and a recording fake
//! of a chat platform for driving the scheduler and delivery directly, and a capture of what
//! a test binary logs (`logs`).
#![allow(dead_code)]

pub mod logs;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Utc};
use peerpulse::app::App;
use peerpulse::clock::ManualClock;
use peerpulse::config::Config;
use peerpulse::domain::message::{Destination, Message};
use peerpulse::platform::console::{Flow, Session};
use peerpulse::platform::{Chat, ChatError};
use peerpulse::store;
use tempfile::TempDir;

pub fn at(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .expect("test times are YYYY-MM-DDTHH:MM")
        .and_utc()
}

/// A console workspace, as `peerpulse chat --db <temp> --now <start>` opens it.
pub struct Console {
    pub session: Session,
    pub dir: TempDir,
    pub url: String,
}

pub async fn console(start: &str) -> Console {
    console_with(Config::default(), start).await
}

pub async fn console_with(config: Config, start: &str) -> Console {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("peerpulse.db").display());
    let session = Session::open(config, &url, at(start))
        .await
        .expect("session opens");
    Console { session, dir, url }
}

impl Console {
    /// Types each non-empty line and returns everything printed.
    pub async fn run(&mut self, script: &str) -> Vec<String> {
        let mut printed = Vec::new();
        for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (flow, mut lines) = self.session.line(line).await.expect("line runs");
            printed.append(&mut lines);
            if flow == Flow::Quit {
                break;
            }
        }
        printed
    }

    pub fn app(&self) -> &App {
        self.session.app()
    }

    /// A second process on the same database file, with its own pool and clock.
    pub async fn second_process(&self, start: DateTime<Utc>) -> (App, Arc<ManualClock>) {
        let db = store::connect(&self.url).await.expect("second pool");
        let clock = Arc::new(ManualClock::new(start));
        (
            App::new(db, clock.clone(), Arc::new(Config::default())),
            clock,
        )
    }
}

/// Every button id (`b12`) in printed lines whose label contains `label`, in order.
pub fn buttons(lines: &[String], label: &str) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.strip_prefix('(')?;
            let (id, text) = rest.split_once(") ")?;
            (id.starts_with('b') && text.contains(label)).then(|| id.to_string())
        })
        .collect()
}

/// The button labelled `label` in the message addressed to `@name`, from printed lines.
pub fn button_for(lines: &[String], name: &str, label: &str) -> Option<String> {
    let head = format!("bot → @{name} ");
    let mut inside = false;
    for line in lines {
        if line.starts_with("bot → ") {
            inside = line.starts_with(&head);
            continue;
        }
        if inside
            && let Some(rest) = line.trim_start().strip_prefix('(')
            && let Some((id, text)) = rest.split_once(") ")
            && text.contains(label)
        {
            return Some(id.to_string());
        }
    }
    None
}

/// Messages (their first line) addressed to `@name`.
pub fn to(lines: &[String], name: &str) -> Vec<String> {
    let head = format!("bot → @{name} ");
    lines
        .iter()
        .filter(|l| l.starts_with(&head))
        .cloned()
        .collect()
}

/// A chat platform that records what it is given and can fail the first sends.
#[derive(Clone, Default)]
pub struct RecordingChat {
    pub sent: Arc<Mutex<Vec<(Destination, Message)>>>,
    pub fail_first: Arc<Mutex<u32>>,
    /// Sends still to be held by (pretend) rate limits, each for 90 s.
    pub hold_first: Arc<Mutex<u32>>,
}

impl RecordingChat {
    pub fn failing(n: u32) -> Self {
        let chat = RecordingChat::default();
        *chat.fail_first.lock().unwrap() = n;
        chat
    }

    /// Holds the first `n` sends as a platform's rate limits would, each for 90 s.
    pub fn holding(n: u32) -> Self {
        let chat = RecordingChat::default();
        *chat.hold_first.lock().unwrap() = n;
        chat
    }

    pub fn sent(&self) -> Vec<(Destination, Message)> {
        self.sent.lock().unwrap().clone()
    }

    /// How many check-in prompts (not reminders) each user received.
    pub fn prompts_per_user(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for (to, message) in self.sent() {
            if let Destination::Dm { user } = to
                && message.text.starts_with("Weekly check-in")
            {
                *counts.entry(user).or_insert(0) += 1;
            }
        }
        counts
    }
}

impl Chat for RecordingChat {
    async fn send(
        &self,
        _workspace: i64,
        to: &Destination,
        message: &Message,
    ) -> Result<(), ChatError> {
        {
            let mut left = self.hold_first.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err(ChatError::Held {
                    wait: std::time::Duration::from_secs(90),
                });
            }
        }
        {
            let mut left = self.fail_first.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err(ChatError::Retry {
                    reason: "fake outage".into(),
                    retry_after: None,
                });
            }
        }
        self.sent
            .lock()
            .unwrap()
            .push((to.clone(), message.clone()));
        Ok(())
    }
}

/// Sets up `#team` with the first name as admin and the others joined.
pub async fn team(ws: &mut Console, names: &[&str]) -> Vec<String> {
    let mut script = format!("/as {}\n/in #team\n/pulse setup\n", names[0]);
    for name in &names[1..] {
        script.push_str(&format!("/as {name}\n/pulse join\n"));
    }
    ws.run(&script).await
}

/// Like [`button_for`], but a missing button fails the test.
pub fn button(lines: &[String], name: &str, label: &str) -> String {
    button_for(lines, name, label)
        .unwrap_or_else(|| panic!("no [{label}] for @{name} in {lines:#?}"))
}

/// Printed bot messages, each with its continuation lines, in order.
pub fn messages(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        if line.starts_with("bot → ") {
            out.push(line.clone());
        } else if line.starts_with("  ")
            && let Some(last) = out.last_mut()
        {
            last.push('\n');
            last.push_str(line);
        }
    }
    out
}

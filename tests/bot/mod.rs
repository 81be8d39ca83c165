//! Starts the real bot (`peerpulse run`'s `server::start`) on port 0 with its own temporary
//! SQLite file, pointed at a [`FakeSlack`], and talks to it as Slack would.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use peerpulse::clock::SystemClock;
use peerpulse::config::{Config, Span};
use peerpulse::platform::slack::SlackSettings;
use peerpulse::server::{self, Running};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

use crate::fake_slack::{self, FakeSlack};

pub const SIGNING_SECRET: &str = "test-signing-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    SocketMode,
}

pub struct Bot {
    pub running: Option<Running>,
    pub base: String,
    pub http: reqwest::Client,
    pub dir: TempDir,
    pub db_url: String,
    pub transport: Transport,
    pub fake: FakeSlack,
}

/// Test settings: a fast scheduler tick and anonymous asks released after a second.
pub fn config(dir: &TempDir) -> Config {
    let mut config = Config::default();
    config.database.url = format!("sqlite://{}", dir.path().join("peerpulse.db").display());
    config.http.bind = "127.0.0.1:0".into();
    config.scheduler.tick_interval = Span(chrono::TimeDelta::milliseconds(200));
    config.asks.anonymous_delay_min = Span(chrono::TimeDelta::seconds(1));
    config.asks.anonymous_delay_max = Span(chrono::TimeDelta::seconds(1));
    config.delivery.backoff_base = Span(chrono::TimeDelta::seconds(1));
    config
}

pub fn settings(fake: &FakeSlack, transport: Transport) -> SlackSettings {
    SlackSettings {
        signing_secret: (transport == Transport::Http).then(|| SIGNING_SECRET.to_string()),
        bot_token: Some(fake.bot_token().to_string()),
        app_token: (transport == Transport::SocketMode).then(|| fake.app_token().to_string()),
        client_id: None,
        client_secret: None,
        api_url: fake.api_url(),
    }
}

pub async fn spawn(fake: &FakeSlack, transport: Transport) -> Bot {
    let dir = tempfile::tempdir().expect("temp dir");
    spawn_with(
        fake,
        transport,
        config(&dir),
        settings(fake, transport),
        dir,
    )
    .await
}

pub async fn spawn_with(
    fake: &FakeSlack,
    transport: Transport,
    config: Config,
    settings: SlackSettings,
    dir: TempDir,
) -> Bot {
    let db_url = config.database.url.clone();
    let running = server::start(config, settings, Arc::new(SystemClock))
        .await
        .expect("bot starts");
    let base = format!("http://{}", running.addr);
    let bot = Bot {
        running: Some(running),
        base,
        http: reqwest::Client::new(),
        dir,
        db_url,
        transport,
        fake: fake.clone(),
    };
    if transport == Transport::SocketMode {
        bot.until("a Socket Mode connection", || fake.socket_connections() > 0)
            .await;
    }
    bot
}

impl Bot {
    pub fn app(&self) -> &peerpulse::app::App {
        &self.running.as_ref().expect("running").app
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// POSTs `body` to `path`, signed as Slack signs it.
    pub async fn post_signed(&self, path: &str, content_type: &str, body: String) -> StatusCode {
        let [(ts_name, ts), (sig_name, sig)] =
            fake_slack::signature_headers(SIGNING_SECRET, body.as_bytes());
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .header(ts_name, ts)
            .header(sig_name, sig)
            .body(body)
            .send()
            .await
            .expect("request")
            .status()
    }

    /// `/pulse TEXT` typed by `user` in `channel`, over the bot's transport.
    pub async fn command(
        &self,
        user: &str,
        name: &str,
        channel: &str,
        channel_name: &str,
        text: &str,
    ) {
        let form = fake_slack::slash_command_form(
            fake_slack::TEAM_ID,
            channel,
            channel_name,
            user,
            name,
            text,
        );
        match self.transport {
            Transport::Http => {
                let status = self
                    .post_signed("/slack/commands", "application/x-www-form-urlencoded", form)
                    .await;
                assert_eq!(status, StatusCode::OK, "/pulse {text}");
            }
            Transport::SocketMode => {
                let fields: Vec<(String, String)> =
                    serde_urlencoded::from_str(&form).expect("form");
                let payload: serde_json::Map<String, Value> = fields
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                self.fake
                    .socket_send("slash_commands", Value::Object(payload))
                    .await;
            }
        }
    }

    /// A `block_actions` payload delivered over the bot's transport.
    pub async fn interact(&self, payload: &Value) {
        match self.transport {
            Transport::Http => {
                let status = self
                    .post_signed(
                        "/slack/interactions",
                        "application/x-www-form-urlencoded",
                        fake_slack::interaction_form(payload),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK);
            }
            Transport::SocketMode => {
                self.fake.socket_send("interactive", payload.clone()).await;
            }
        }
    }

    /// Presses the button `label` (a substring) in `posted` as `user`.
    pub async fn click(&self, posted: &fake_slack::Posted, label: &str, user: &str) {
        let button = posted
            .buttons()
            .into_iter()
            .find(|b| b.text.contains(label))
            .unwrap_or_else(|| panic!("no button {label:?} in {posted:#?}"));
        let payload = self
            .fake
            .click_payload(posted, &button.action_id, user, fake_slack::TEAM_ID);
        self.interact(&payload).await;
    }

    /// Waits (up to 10 s) until `check` holds.
    pub async fn until(&self, what: &str, check: impl Fn() -> bool) {
        for _ in 0..200 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    /// Waits for a posted message matching `check` and returns the latest such.
    pub async fn posted(
        &self,
        what: &str,
        check: impl Fn(&fake_slack::Posted) -> bool,
    ) -> fake_slack::Posted {
        self.until(what, || self.fake.posted().iter().any(&check))
            .await;
        self.fake
            .posted()
            .into_iter()
            .rev()
            .find(|p| check(p))
            .expect("found")
    }
}

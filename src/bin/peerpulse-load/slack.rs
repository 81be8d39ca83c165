//! What Slack sends the bot: signed slash commands and signed `block_actions` interactions,
//! shaped like Slack's own payloads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use peerpulse::platform::slack::verify::sign;
use serde_json::json;

pub const TEAM: &str = "T0LOAD0001";
pub const CHANNEL: &str = "C0LOAD0001";
pub const CHANNEL_NAME: &str = "load";
const APP_ID: &str = "A0LOAD0001";

static NEXT: AtomicU64 = AtomicU64::new(1);

fn fresh() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A Slack user id for member `i`.
pub fn member_id(i: usize) -> String {
    format!("U{i:09}")
}

/// The HTTP side of Slack: a pooled client that signs every request.
#[derive(Clone)]
pub struct Slack {
    pub http: reqwest::Client,
    base: String,
    secret: String,
}

/// How one request went.
pub enum Ack {
    Ok,
    Status(u16),
    /// Not answered within the client's timeout.
    Timeout,
    Transport,
}

impl Slack {
    pub fn new(base: &str, secret: &str, timeout: Duration) -> anyhow::Result<Slack> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(4096)
            .pool_idle_timeout(Duration::from_secs(90))
            .timeout(timeout)
            .build()?;
        Ok(Slack {
            http,
            base: base.to_string(),
            secret: secret.to_string(),
        })
    }

    /// POSTs a form body to `path`, signed as Slack signs it.
    pub async fn post(&self, path: &str, body: String) -> Ack {
        let ts = now();
        let signature = sign(&self.secret, ts, body.as_bytes());
        let sent = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                // Read the (empty) body so the connection goes back to the pool.
                let _ = response.bytes().await;
                Ack::Ok
            }
            Ok(response) => Ack::Status(response.status().as_u16()),
            Err(error) if error.is_timeout() => Ack::Timeout,
            Err(_) => Ack::Transport,
        }
    }

    /// `/pulse TEXT` typed by `user` in the team channel.
    pub async fn command(&self, user: &str, text: &str) -> anyhow::Result<()> {
        match self.post("/slack/commands", command_form(user, text)).await {
            Ack::Ok => Ok(()),
            Ack::Status(status) => anyhow::bail!("/pulse {text} by {user}: HTTP {status}"),
            Ack::Timeout | Ack::Transport => anyhow::bail!("/pulse {text} by {user}: no answer"),
        }
    }

    /// `user` presses load button `score` on prompt `prompt` in their DM.
    pub async fn answer(&self, user: &str, prompt: i64, score: u8) -> Ack {
        self.post("/slack/interactions", answer_form(user, prompt, score))
            .await
    }
}

/// A slash command's form body, with the fields Slack sends.
pub fn command_form(user: &str, text: &str) -> String {
    let n = fresh();
    let name = user.to_ascii_lowercase();
    serde_urlencoded::to_string([
        ("token", "load-verification-token".to_string()),
        ("team_id", TEAM.into()),
        ("team_domain", "peerpulse-load".into()),
        ("channel_id", CHANNEL.into()),
        ("channel_name", CHANNEL_NAME.into()),
        ("user_id", user.into()),
        ("user_name", name),
        ("command", "/pulse".into()),
        ("text", text.into()),
        ("api_app_id", APP_ID.into()),
        ("is_enterprise_install", "false".into()),
        (
            "response_url",
            format!("https://hooks.slack.com/commands/{TEAM}/{n}/load{n:08x}"),
        ),
        ("trigger_id", format!("{n}.{}.cmd{n:08x}", now())),
    ])
    .expect("a form encodes")
}

/// A `block_actions` interaction's form body: a click on a prompt's load button, in the DM
/// the prompt was posted to (`D` + user id, as the sink's `conversations.open` answers).
pub fn answer_form(user: &str, prompt: i64, score: u8) -> String {
    let n = fresh();
    let t = now();
    let name = user.to_ascii_lowercase();
    let dm = format!("D{user}");
    let action = format!("answer:{prompt}:{score}");
    let message_ts = format!("{t}.{:06}", prompt % 1_000_000);
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "username": name, "name": name, "team_id": TEAM},
        "api_app_id": APP_ID,
        "token": "load-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": dm,
            "is_ephemeral": false},
        "trigger_id": format!("{n}.{t}.load{n:08x}"),
        "team": {"id": TEAM, "domain": "peerpulse-load"},
        "enterprise": null,
        "is_enterprise_install": false,
        "channel": {"id": dm, "name": "directmessage"},
        "state": {"values": {}},
        "response_url": format!("https://hooks.slack.com/actions/{TEAM}/{n}/load{n:08x}"),
        "actions": [{
            "action_id": action,
            "block_id": "answers",
            "text": {"type": "plain_text", "text": score.to_string(), "emoji": true},
            "value": action,
            "type": "button",
            "action_ts": format!("{t}.{n:06}"),
        }],
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).expect("a form encodes")
}

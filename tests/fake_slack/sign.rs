//! What Slack sends a bot over HTTP, for tests to send in its place: request signatures and
//! realistic slash command, `block_actions` and `view_submission` payloads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, Slack's `X-Slack-Signature`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// `X-Slack-Request-Timestamp` (now) and `X-Slack-Signature` for `body`.
pub fn signature_headers(secret: &str, body: &[u8]) -> [(&'static str, String); 2] {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let now = i64::try_from(now).expect("seconds fit in i64");
    [
        ("X-Slack-Request-Timestamp", now.to_string()),
        ("X-Slack-Signature", sign(secret, now, body)),
    ]
}

/// The body of an interaction request: the form field `payload` holding the JSON.
pub fn interaction_form(payload: &Value) -> String {
    serde_urlencoded::to_string([("payload", payload.to_string())]).expect("a form encodes")
}

fn fresh() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

fn fresh_trigger_id() -> String {
    let n = fresh();
    format!("{n}.1700000000.sign{n:08x}")
}

fn domain(team_id: &str) -> String {
    format!("fake-{}", team_id.to_ascii_lowercase())
}

/// A `block_actions` payload as Slack sends it when a member presses a button in a message.
/// `FakeSlack::click_payload` fills in the real message, block id and button label.
pub fn block_actions_payload(
    user_id: &str,
    team_id: &str,
    channel_id: &str,
    message_ts: &str,
    action_id: &str,
    value: &str,
    trigger_id: &str,
) -> Value {
    let username = user_id.to_ascii_lowercase();
    let channel_name = if channel_id.starts_with('D') {
        "directmessage"
    } else {
        "general"
    };
    let n = fresh();
    json!({
        "type": "block_actions",
        "user": {"id": user_id, "username": username, "name": username, "team_id": team_id},
        "api_app_id": super::APP_ID,
        "token": "fake-verification-token",
        "container": {
            "type": "message", "message_ts": message_ts, "channel_id": channel_id,
            "is_ephemeral": false,
        },
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": domain(team_id)},
        "enterprise": null,
        "is_enterprise_install": false,
        "channel": {"id": channel_id, "name": channel_name},
        "message": {
            "type": "message", "user": format!("UBOT{team_id}"), "bot_id": format!("BBOT{team_id}"),
            "app_id": super::APP_ID, "team": team_id, "text": "", "blocks": [], "ts": message_ts,
        },
        "state": {"values": {}},
        "response_url": format!("https://hooks.slack.com/actions/{team_id}/{n}/fake{n:08x}"),
        "actions": [{
            "action_id": action_id,
            "block_id": "actions",
            "text": {"type": "plain_text", "text": value, "emoji": true},
            "value": value,
            "type": "button",
            "action_ts": format!("1700000000.{n:06}"),
        }],
    })
}

/// A `view_submission` payload for a modal the bot opened (`view` as `views.open` answered
/// it, with its `id`), with the member's input as `state.values`
/// (`{block_id: {action_id: {"type": "plain_text_input", "value": "…"}}}`).
pub fn view_submission_payload(user_id: &str, team_id: &str, view: &Value, values: Value) -> Value {
    let username = user_id.to_ascii_lowercase();
    let mut view = view.clone();
    view["state"] = json!({ "values": values });
    json!({
        "type": "view_submission",
        "team": {"id": team_id, "domain": domain(team_id)},
        "user": {"id": user_id, "username": username, "name": username, "team_id": team_id},
        "api_app_id": super::APP_ID,
        "token": "fake-verification-token",
        "trigger_id": fresh_trigger_id(),
        "view": view,
        "response_urls": [],
        "enterprise": null,
        "is_enterprise_install": false,
    })
}

/// An Events API `event_callback` envelope around `event` (given `event_ts` when it has none),
/// as Slack POSTs it to the events URL or puts it in an `events_api` Socket Mode payload.
pub fn event_callback(team_id: &str, event_id: &str, mut event: Value) -> Value {
    if event.get("event_ts").is_none() {
        event["event_ts"] = json!(format!("1700000000.{:06}", fresh()));
    }
    json!({
        "token": "fake-verification-token",
        "team_id": team_id,
        "api_app_id": super::APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_700_000_000,
        "authed_users": [format!("UBOT{team_id}")],
        "authorizations": [{"enterprise_id": null, "team_id": team_id,
            "user_id": format!("UBOT{team_id}"), "is_bot": true, "is_enterprise_install": false}],
        "is_ext_shared_channel": false,
        "event_context": format!("4-fake-{event_id}"),
    })
}

/// The form body of a `/pulse` slash command, as Slack posts it to the command URL.
pub fn slash_command_form(
    team_id: &str,
    channel_id: &str,
    channel_name: &str,
    user_id: &str,
    user_name: &str,
    text: &str,
) -> String {
    let n = fresh();
    let response_url = format!("https://hooks.slack.com/commands/{team_id}/{n}/fake{n:08x}");
    let fields = [
        ("token", "fake-verification-token".to_string()),
        ("team_id", team_id.into()),
        ("team_domain", domain(team_id)),
        ("channel_id", channel_id.into()),
        ("channel_name", channel_name.into()),
        ("user_id", user_id.into()),
        ("user_name", user_name.into()),
        ("command", "/pulse".into()),
        ("text", text.into()),
        ("api_app_id", super::APP_ID.into()),
        ("is_enterprise_install", "false".into()),
        ("response_url", response_url),
        ("trigger_id", fresh_trigger_id()),
    ];
    serde_urlencoded::to_string(fields).expect("a form encodes")
}

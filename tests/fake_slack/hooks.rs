//! What the fake sends the bot besides Web API answers: `response_url`s that record what the
//! bot posts to them, and button clicks built from the bot's own messages.

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::blocks::{self, Surface};
use super::sign::block_actions_payload;
use super::{FakeSlack, Posted, Team, views};

/// Slack accepts five posts to one `response_url`.
const RESPONSE_URL_USES: usize = 5;

impl FakeSlack {
    /// A fresh `response_url` on this server; what the bot POSTs there lands in [`responses`].
    ///
    /// [`responses`]: FakeSlack::responses
    pub fn response_url(&self) -> String {
        let mut state = self.state();
        let id = state.next_seq();
        state.response_urls.insert(id, 0);
        format!("{}/response/{id}", self.base_url())
    }

    /// (response_url, JSON body) for every post the bot made to a `response_url`.
    pub fn responses(&self) -> Vec<(String, Value)> {
        self.state().responses.clone()
    }

    /// A trigger id as Slack puts in payloads; `views.open` refuses it after 3 s or a second use.
    pub fn trigger_id(&self) -> String {
        views::issue_trigger(&mut self.state())
    }

    /// The `block_actions` payload Slack sends when `user_id` presses the button `action_id` in
    /// a message the bot posted: the real block id, label, value and message, a fresh trigger
    /// id and a `response_url` on this fake. Panics if the message has no such button.
    pub fn click_payload(
        &self,
        posted: &Posted,
        action_id: &str,
        user_id: &str,
        team_id: &str,
    ) -> Value {
        let buttons = posted.buttons();
        let Some(button) = buttons.iter().find(|b| b.action_id == action_id) else {
            panic!("no button {action_id:?} in {buttons:#?}");
        };
        let trigger_id = self.trigger_id();
        let mut payload = block_actions_payload(
            user_id,
            team_id,
            &posted.channel,
            &posted.ts,
            action_id,
            &button.value,
            &trigger_id,
        );
        payload["actions"][0]["block_id"] = json!(button.block_id);
        payload["actions"][0]["text"]["text"] = json!(button.text);
        payload["response_url"] = json!(self.response_url());
        let current = self.message(&posted.channel, &posted.ts);
        let shown = current.as_ref().unwrap_or(posted);
        if posted.method == "chat.postEphemeral" {
            payload["container"]["is_ephemeral"] = json!(true);
            if let Some(object) = payload.as_object_mut() {
                object.remove("message");
            }
        } else {
            let team = Team::new(team_id);
            payload["message"] = json!({
                "type": "message", "user": team.bot_user_id, "bot_id": team.bot_id,
                "app_id": super::APP_ID, "team": team.id, "text": shown.text,
                "blocks": shown.blocks, "ts": shown.ts,
            });
        }
        payload
    }
}

pub(super) async fn respond(
    Extract(fake): Extract<FakeSlack>,
    Path(id): Path<u64>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let url = format!("{}/response/{id}", fake.base_url());
    let mut state = fake.state();
    let Some(uses) = state.response_urls.get_mut(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"ok": false, "error": "no_such_url"})),
        );
    };
    if *uses >= RESPONSE_URL_USES {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"ok": false, "error": "used_url"})),
        );
    }
    *uses += 1;
    if let Some(given) = body.get("blocks") {
        let errors = blocks::validate(given, Surface::Message);
        if !errors.is_empty() {
            let problems = errors
                .iter()
                .map(|e| format!("response_url: invalid blocks: {e}"));
            state.violations.extend(problems);
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"ok": false, "error": "invalid_blocks"})),
            );
        }
    }
    state.responses.push((url, body));
    (StatusCode::OK, Json(json!({"ok": true})))
}

//! `views.open`: the modal is checked like Slack does (type, title, submit, blocks), and a
//! `trigger_id` works once, within 3 s when the fake handed it out.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::api::{Ctx, Reply};
use super::blocks::{self, Surface};
use super::{APP_ID, State};

/// How long a `trigger_id` the fake handed out stays usable.
const TRIGGER_LIFETIME: Duration = Duration::from_secs(3);

pub(super) fn open_view(state: &mut State, cx: &Ctx, violations: &mut Vec<String>) -> Reply {
    let trigger_id = cx.str("trigger_id").unwrap_or_default();
    let view = match cx.req.params.get("view") {
        Some(Value::String(raw)) => serde_json::from_str::<Value>(raw).unwrap_or(Value::Null),
        Some(given) => given.clone(),
        None => Value::Null,
    };
    let errors = view_errors(&view);
    if !errors.is_empty() {
        violations.extend(errors.iter().map(|e| format!("invalid view: {e}")));
        return Reply::error_with("invalid_arguments", &errors);
    }
    if state.views.iter().any(|(used, _)| *used == trigger_id) {
        return Reply::error("exchanged_trigger_id");
    }
    if let Some(issued) = state.triggers.get(&trigger_id)
        && issued.elapsed() > TRIGGER_LIFETIME
    {
        return Reply::error("expired_trigger_id");
    }
    let id = format!("V{:010}", state.next_seq());
    state.views.push((trigger_id, view.clone()));
    let team = cx.team();
    let mut answered = view;
    for (key, value) in [
        ("id", json!(id)),
        ("team_id", json!(team.id)),
        ("app_id", json!(APP_ID)),
        ("bot_id", json!(team.bot_id)),
        ("root_view_id", json!(id)),
        ("previous_view_id", Value::Null),
        ("hash", json!(format!("1700000000.{id}"))),
        ("state", json!({"values": {}})),
    ] {
        answered[key] = value;
    }
    Reply::ok(json!({"ok": true, "view": answered}))
}

fn view_errors(view: &Value) -> Vec<String> {
    if !view.is_object() {
        return vec!["[ERROR] view must be a JSON object [json-pointer:/view]".into()];
    }
    let mut errors = Vec::new();
    if view["type"] != "modal" {
        errors.push("[ERROR] views.open needs type modal [json-pointer:/view/type]".into());
    }
    for (field, required) in [("title", true), ("submit", false), ("close", false)] {
        let text = &view[field];
        let fits = text["type"] == "plain_text"
            && text["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && t.chars().count() <= 24);
        if (required || !text.is_null()) && !fits {
            errors.push(format!(
                "[ERROR] must be plain_text of 1 to 24 characters [json-pointer:/view/{field}]"
            ));
        }
    }
    let has_input = view["blocks"]
        .as_array()
        .is_some_and(|b| b.iter().any(|block| block["type"] == "input"));
    if has_input && view["submit"].is_null() {
        errors.push("[ERROR] a modal with input blocks needs submit [json-pointer:/view]".into());
    }
    for (field, max) in [
        ("callback_id", 255),
        ("private_metadata", 3000),
        ("external_id", 255),
    ] {
        if view[field].as_str().is_some_and(|s| s.len() > max) {
            errors.push(format!(
                "[ERROR] must be at most {max} characters [json-pointer:/view/{field}]"
            ));
        }
    }
    let block_errors = blocks::validate(&view["blocks"], Surface::Modal);
    errors.extend(
        block_errors
            .into_iter()
            .map(|e| e.replace("pointer:/blocks", "pointer:/view/blocks")),
    );
    errors
}

/// Registers a trigger id handed out in a payload, so `views.open` can expire it after 3 s.
pub(super) fn issue_trigger(state: &mut State) -> String {
    let n = state.next_seq();
    let trigger = format!("{n}.1700000000.fake{n:08x}");
    state.triggers.insert(trigger.clone(), Instant::now());
    trigger
}

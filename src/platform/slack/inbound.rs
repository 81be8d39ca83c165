//! Slack payloads (slash commands, interactions, Events API) parsed into core events. The
//! same parsers serve HTTP and Socket Mode.

use serde_json::Value;

use crate::app::{Actor, ChannelRef, EventKind, Inbound, Origin, Workspace};
use crate::domain::action::Action;
use crate::domain::command;

pub const PLATFORM: &str = "slack";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed Slack payload: {0}")]
pub struct Malformed(pub &'static str);

fn text<'a>(value: &'a Value, pointer: &'static str) -> Result<&'a str, Malformed> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(Malformed(pointer))
}

fn channel_name(name: Option<&str>) -> String {
    match name {
        Some(name) if !name.is_empty() => format!("#{}", name.trim_start_matches('#')),
        _ => "#channel".into(),
    }
}

/// A slash command (form fields as a JSON object of strings).
pub fn command(fields: &Value) -> Result<Inbound, Malformed> {
    let kind = match command::parse(fields.get("text").and_then(Value::as_str).unwrap_or("")) {
        Ok(command) => EventKind::Command(command),
        Err(error) => EventKind::BadCommand(error),
    };
    let user = text(fields, "/user_id")?;
    Ok(Inbound {
        workspace: Workspace {
            platform: PLATFORM.into(),
            external_id: text(fields, "/team_id")?.into(),
        },
        actor: Actor {
            user_id: user.into(),
            name: fields
                .get("user_name")
                .and_then(Value::as_str)
                .unwrap_or(user)
                .into(),
            ..Actor::default()
        },
        channel: ChannelRef {
            id: text(fields, "/channel_id")?.into(),
            name: channel_name(fields.get("channel_name").and_then(Value::as_str)),
        },
        key: fields
            .get("trigger_id")
            .and_then(Value::as_str)
            .map(|t| format!("cmd:{t}")),
        origin: None,
        kind,
    })
}

/// An interaction payload. `None` for kinds peerpulse does not act on.
pub fn interaction(payload: &Value) -> Result<Option<Inbound>, Malformed> {
    if payload.get("type").and_then(Value::as_str) != Some("block_actions") {
        return Ok(None);
    }
    let action = payload
        .pointer("/actions/0/action_id")
        .and_then(Value::as_str)
        .ok_or(Malformed("/actions/0/action_id"))?;
    let kind = match action.parse::<Action>() {
        Ok(action) => EventKind::Action(action),
        Err(_) => EventKind::BadAction,
    };
    let user = text(payload, "/user/id")?;
    let team = text(payload, "/team/id").or_else(|_| text(payload, "/user/team_id"))?;
    let channel =
        text(payload, "/channel/id").or_else(|_| text(payload, "/container/channel_id"))?;
    let name = ["/user/username", "/user/name"]
        .into_iter()
        .find_map(|p| {
            payload
                .pointer(p)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or(user);
    let origin = match (
        payload.pointer("/container/type").and_then(Value::as_str),
        payload
            .pointer("/container/message_ts")
            .and_then(Value::as_str),
        payload
            .pointer("/container/is_ephemeral")
            .and_then(Value::as_bool),
    ) {
        (Some("message"), Some(ts), Some(false) | None) => Some(Origin {
            channel: payload
                .pointer("/container/channel_id")
                .and_then(Value::as_str)
                .unwrap_or(channel)
                .into(),
            message: ts.into(),
        }),
        _ => None,
    };
    let key = payload
        .get("trigger_id")
        .and_then(Value::as_str)
        .map(|t| format!("int:{t}"))
        .or_else(|| {
            let ts = payload
                .pointer("/actions/0/action_ts")
                .and_then(Value::as_str)?;
            Some(format!("int:{user}:{ts}"))
        });
    Ok(Some(Inbound {
        workspace: Workspace {
            platform: PLATFORM.into(),
            external_id: team.into(),
        },
        actor: Actor {
            user_id: user.into(),
            name: name.into(),
            ..Actor::default()
        },
        channel: ChannelRef {
            id: channel.into(),
            name: channel_name(payload.pointer("/channel/name").and_then(Value::as_str)),
        },
        key,
        origin,
        kind,
    }))
}

/// What an Events API body asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `url_verification`: echo the challenge.
    Challenge(String),
    /// The app was uninstalled or its tokens revoked in this workspace.
    Uninstalled {
        team_id: String,
        event_id: String,
    },
    Ignored,
}

pub fn event(body: &Value) -> Result<Event, Malformed> {
    match body.get("type").and_then(Value::as_str) {
        Some("url_verification") => Ok(Event::Challenge(text(body, "/challenge")?.into())),
        Some("event_callback") => match body.pointer("/event/type").and_then(Value::as_str) {
            Some("app_uninstalled" | "tokens_revoked") => {
                let team_id =
                    text(body, "/team_id").or_else(|_| text(body, "/authorizations/0/team_id"))?;
                let event_id = body
                    .get("event_id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if body.pointer("/event/type").and_then(Value::as_str) == Some("tokens_revoked")
                    && body
                        .pointer("/event/tokens/bot")
                        .and_then(Value::as_array)
                        .is_none_or(|bots| bots.is_empty())
                {
                    return Ok(Event::Ignored);
                }
                Ok(Event::Uninstalled {
                    team_id: team_id.into(),
                    event_id,
                })
            }
            _ => Ok(Event::Ignored),
        },
        _ => Ok(Event::Ignored),
    }
}

/// Form fields as a JSON object, so commands parse the same from HTTP and Socket Mode.
pub fn form_to_json(body: &[u8]) -> Option<Value> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        map.insert(k, Value::String(v));
    }
    Some(Value::Object(map))
}

/// The modal that takes a load score and a note for one prompt.
pub const NOTE_CALLBACK: &str = "peerpulse-note";

/// `note:{prompt}` clicked: the prompt id, if that is what this payload is.
pub fn note_request(payload: &Value) -> Option<(i64, String, String)> {
    if payload.get("type").and_then(Value::as_str) != Some("block_actions") {
        return None;
    }
    let action = payload
        .pointer("/actions/0/action_id")
        .and_then(Value::as_str)?;
    let Ok(Action::Note { prompt }) = action.parse::<Action>() else {
        return None;
    };
    let trigger = payload
        .get("trigger_id")
        .and_then(Value::as_str)?
        .to_string();
    let channel = text(payload, "/channel/id")
        .or_else(|_| text(payload, "/container/channel_id"))
        .ok()?;
    Some((prompt, trigger, channel.to_string()))
}

pub fn note_view(prompt: i64, channel: &str) -> Value {
    let options: Vec<Value> = crate::domain::LoadScore::ALL
        .iter()
        .map(|s| serde_json::json!({"text": {"type": "plain_text", "text": format!("{} {}", s.value(), s.label())}, "value": s.value().to_string()}))
        .collect();
    serde_json::json!({
        "type": "modal",
        "callback_id": NOTE_CALLBACK,
        "private_metadata": format!("{prompt}:{channel}"),
        "title": {"type": "plain_text", "text": "Weekly check-in"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": "load",
             "label": {"type": "plain_text", "text": "How heavy is your load this week?"},
             "element": {"type": "radio_buttons", "action_id": "score", "options": options}},
            {"type": "input", "block_id": "note", "optional": true,
             "label": {"type": "plain_text", "text": "A short note (no name; shown only when enough people answer)"},
             "element": {"type": "plain_text_input", "action_id": "note", "multiline": true, "max_length": 280}}
        ]
    })
}

/// A submitted note form: the answer, as an event.
pub fn note_submission(payload: &Value) -> Result<Option<Inbound>, Malformed> {
    if payload.get("type").and_then(Value::as_str) != Some("view_submission")
        || payload.pointer("/view/callback_id").and_then(Value::as_str) != Some(NOTE_CALLBACK)
    {
        return Ok(None);
    }
    let metadata = text(payload, "/view/private_metadata")?;
    let (prompt, channel) = metadata
        .split_once(':')
        .ok_or(Malformed("/view/private_metadata"))?;
    let prompt: i64 = prompt
        .parse()
        .map_err(|_| Malformed("/view/private_metadata"))?;
    let values = payload
        .pointer("/view/state/values")
        .ok_or(Malformed("/view/state/values"))?;
    let score = values
        .pointer("/load/score/selected_option/value")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<crate::domain::LoadScore>().ok());
    let note = values
        .pointer("/note/note/value")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty());
    let kind = match (score, note.map(command::Note::parse).transpose()) {
        (Some(score), Ok(note)) => EventKind::AnswerWithNote {
            prompt,
            answer: command::CheckinAnswer { score, note },
        },
        (None, _) => EventKind::BadAction,
        (_, Err(error)) => EventKind::BadCommand(error),
    };
    let user = text(payload, "/user/id")?;
    let team = text(payload, "/team/id").or_else(|_| text(payload, "/user/team_id"))?;
    Ok(Some(Inbound {
        workspace: Workspace {
            platform: PLATFORM.into(),
            external_id: team.into(),
        },
        actor: Actor {
            user_id: user.into(),
            name: user.into(),
            ..Actor::default()
        },
        channel: ChannelRef {
            id: channel.into(),
            name: "#directmessage".into(),
        },
        key: payload
            .pointer("/view/id")
            .and_then(Value::as_str)
            .map(|v| format!("view:{v}")),
        origin: None,
        kind,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_slash_command_becomes_a_command_event() {
        let fields = json!({"team_id": "T1", "channel_id": "C1", "channel_name": "platform",
            "user_id": "U1", "user_name": "alice", "text": "setup tz=Europe/Berlin", "trigger_id": "1.2.3"});
        let event = command(&fields).unwrap();
        assert_eq!(event.workspace.external_id, "T1");
        assert_eq!(event.channel.name, "#platform");
        assert_eq!(event.key.as_deref(), Some("cmd:1.2.3"));
        assert!(matches!(event.kind, EventKind::Command(_)));
        let bad =
            json!({"team_id": "T1", "channel_id": "C1", "user_id": "U1", "text": "frobnicate"});
        assert!(matches!(
            command(&bad).unwrap().kind,
            EventKind::BadCommand(_)
        ));
        assert!(command(&json!({"text": "help"})).is_err());
    }

    #[test]
    fn a_button_click_becomes_an_action_with_its_origin() {
        let payload = json!({"type": "block_actions", "user": {"id": "U2", "username": "bob", "team_id": "T1"},
            "team": {"id": "T1"}, "trigger_id": "9.9", "channel": {"id": "D2", "name": "directmessage"},
            "container": {"type": "message", "message_ts": "17.01", "channel_id": "D2", "is_ephemeral": false},
            "actions": [{"action_id": "answer:4:2", "value": "answer:4:2", "action_ts": "17.5"}]});
        let event = interaction(&payload).unwrap().unwrap();
        assert!(matches!(
            event.kind,
            EventKind::Action(Action::Answer { prompt: 4, .. })
        ));
        assert_eq!(
            event.origin,
            Some(Origin {
                channel: "D2".into(),
                message: "17.01".into()
            })
        );
        let forged = json!({"type": "block_actions", "user": {"id": "U2"}, "team": {"id": "T1"},
            "channel": {"id": "D2"}, "actions": [{"action_id": "drop:1"}]});
        assert!(matches!(
            interaction(&forged).unwrap().unwrap().kind,
            EventKind::BadAction
        ));
        assert!(
            interaction(&json!({"type": "view_closed"}))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn events_are_recognised() {
        assert_eq!(
            event(&json!({"type": "url_verification", "challenge": "abc"})),
            Ok(Event::Challenge("abc".into()))
        );
        let uninstall = json!({"type": "event_callback", "team_id": "T1", "event_id": "Ev1",
            "event": {"type": "app_uninstalled"}});
        assert_eq!(
            event(&uninstall),
            Ok(Event::Uninstalled {
                team_id: "T1".into(),
                event_id: "Ev1".into()
            })
        );
        let user_tokens_only = json!({"type": "event_callback", "team_id": "T1", "event_id": "Ev2",
            "event": {"type": "tokens_revoked", "tokens": {"oauth": ["U1"]}}});
        assert_eq!(event(&user_tokens_only), Ok(Event::Ignored));
    }
}

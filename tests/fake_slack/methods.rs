//! The Web API methods the fake implements, answering the way Slack's method pages show.

use chrono::{Offset, Utc};
use serde_json::{Value, json};

use super::api::{Ctx, Reply};
use super::blocks::{self, Surface};
use super::{APP_ID, Posted, State, Team, files, views};

/// Runs an implemented method; a method in the spec but not here is a violation too, so that
/// a test notices when the bot starts calling something the fake does not model.
pub(super) fn dispatch(state: &mut State, cx: &Ctx, violations: &mut Vec<String>) -> Reply {
    match cx.req.method.as_str() {
        "api.test" => Reply::ok(json!({"ok": true, "args": cx.req.params})),
        "auth.test" => auth_test(cx),
        "chat.postMessage" => post_message(state, cx, violations),
        "chat.postEphemeral" => post_ephemeral(state, cx, violations),
        "chat.update" => update(state, cx, violations),
        "chat.delete" => delete(state, cx),
        "conversations.open" => open_conversation(state, cx),
        "views.open" => views::open_view(state, cx, violations),
        "users.info" => users_info(state, cx),
        "oauth.v2.access" => oauth_access(state, cx),
        "apps.connections.open" => open_connection(state, cx),
        "files.getUploadURLExternal" => files::get_upload_url(state, cx),
        "files.completeUploadExternal" => files::complete_upload(state, cx, violations),
        other => {
            violations.push(format!(
                "{other} is in the spec but the fake does not implement it"
            ));
            Reply::error("fake_not_implemented")
        }
    }
}

/// Posting to a user id posts to the app's DM with that user.
pub(super) fn resolve_channel(channel: &str) -> String {
    if channel.starts_with('U') || channel.starts_with('W') {
        format!("D{channel}")
    } else {
        channel.to_string()
    }
}

fn auth_test(cx: &Ctx) -> Reply {
    let team = cx.team();
    Reply::ok(json!({
        "ok": true, "url": "https://fake.slack.com/", "team": team.name, "user": "peerpulse",
        "team_id": team.id, "user_id": team.bot_user_id, "bot_id": team.bot_id,
        "is_enterprise_install": false,
    }))
}

/// Text and blocks of a message; `None` fields keep what an updated message had.
struct Content {
    text: Option<String>,
    blocks: Option<Value>,
    has_attachments: bool,
}

fn content(cx: &Ctx, violations: &mut Vec<String>) -> Result<Content, Reply> {
    let text = cx.str("text");
    if text.as_ref().is_some_and(|t| t.chars().count() > 40_000) {
        return Err(Reply::error("msg_too_long"));
    }
    let blocks = match cx.req.params.get("blocks") {
        None | Some(Value::Null) => None,
        Some(Value::String(raw)) => match serde_json::from_str::<Value>(raw) {
            Ok(parsed) => Some(parsed),
            Err(_) => return Err(Reply::error("invalid_blocks_format")),
        },
        Some(given) => Some(given.clone()),
    };
    if let Some(blocks) = &blocks {
        let errors = blocks::validate(blocks, Surface::Message);
        if !errors.is_empty() {
            violations.extend(errors.iter().map(|e| format!("invalid blocks: {e}")));
            return Err(Reply::error_with("invalid_blocks", &errors));
        }
    }
    let has_attachments = cx.req.params.contains_key("attachments");
    Ok(Content {
        text,
        blocks,
        has_attachments,
    })
}

fn message_json(team: &Team, posted: &Posted) -> Value {
    json!({
        "type": "message", "user": team.bot_user_id, "bot_id": team.bot_id, "app_id": APP_ID,
        "team": team.id, "text": posted.text, "blocks": posted.blocks, "ts": posted.ts,
    })
}

fn post_message(state: &mut State, cx: &Ctx, violations: &mut Vec<String>) -> Reply {
    let channel = resolve_channel(&cx.str("channel").unwrap_or_default());
    if state.removed_channels.contains(&channel) {
        return Reply::error("channel_not_found");
    }
    let content = match content(cx, violations) {
        Ok(content) => content,
        Err(reply) => return reply,
    };
    let empty = content.text.as_deref().unwrap_or_default().is_empty();
    if empty && content.blocks.is_none() && !content.has_attachments {
        return Reply::error("no_text");
    }
    let posted = Posted {
        method: "chat.postMessage".into(),
        channel: channel.clone(),
        user: None,
        text: content.text.unwrap_or_default(),
        blocks: content.blocks.unwrap_or_else(|| json!([])),
        ts: state.next_ts(),
    };
    let message = message_json(&cx.team(), &posted);
    let ts = posted.ts.clone();
    state.record_post(posted);
    Reply::ok(json!({"ok": true, "channel": channel, "ts": ts, "message": message}))
}

fn post_ephemeral(state: &mut State, cx: &Ctx, violations: &mut Vec<String>) -> Reply {
    let channel = resolve_channel(&cx.str("channel").unwrap_or_default());
    if state.removed_channels.contains(&channel) {
        return Reply::error("channel_not_found");
    }
    let content = match content(cx, violations) {
        Ok(content) => content,
        Err(reply) => return reply,
    };
    let empty = content.text.as_deref().unwrap_or_default().is_empty();
    if empty && content.blocks.is_none() && !content.has_attachments {
        return Reply::error("no_text");
    }
    let ts = state.next_ts();
    state.record_post(Posted {
        method: "chat.postEphemeral".into(),
        channel,
        user: cx.str("user"),
        text: content.text.unwrap_or_default(),
        blocks: content.blocks.unwrap_or_else(|| json!([])),
        ts: ts.clone(),
    });
    Reply::ok(json!({"ok": true, "message_ts": ts}))
}

fn update(state: &mut State, cx: &Ctx, violations: &mut Vec<String>) -> Reply {
    let channel = cx.str("channel").unwrap_or_default();
    let ts = cx.str("ts").unwrap_or_default();
    if state.removed_channels.contains(&channel) {
        return Reply::error("channel_not_found");
    }
    let Some(current) = state.messages.get(&(channel.clone(), ts.clone())).cloned() else {
        return Reply::error("message_not_found");
    };
    let content = match content(cx, violations) {
        Ok(content) => content,
        Err(reply) => return reply,
    };
    let posted = Posted {
        method: "chat.update".into(),
        channel: channel.clone(),
        user: None,
        text: content.text.unwrap_or(current.text),
        blocks: content.blocks.unwrap_or(current.blocks),
        ts: ts.clone(),
    };
    let message = message_json(&cx.team(), &posted);
    let text = posted.text.clone();
    state.record_post(posted);
    Reply::ok(json!({"ok": true, "channel": channel, "ts": ts, "text": text, "message": message}))
}

fn delete(state: &mut State, cx: &Ctx) -> Reply {
    let channel = cx.str("channel").unwrap_or_default();
    let ts = cx.str("ts").unwrap_or_default();
    match state.messages.remove(&(channel.clone(), ts.clone())) {
        Some(_) => Reply::ok(json!({"ok": true, "channel": channel, "ts": ts})),
        None => Reply::error("message_not_found"),
    }
}

fn looks_like_user_id(id: &str) -> bool {
    (id.starts_with('U') || id.starts_with('W'))
        && id.len() > 1
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn open_conversation(state: &mut State, cx: &Ctx) -> Reply {
    if let Some(channel) = cx.str("channel") {
        let channel = json!({"id": channel});
        return Reply::ok(
            json!({"ok": true, "no_op": true, "already_open": true, "channel": channel}),
        );
    }
    let users: Vec<String> = cx
        .str("users")
        .unwrap_or_default()
        .split(',')
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if users.is_empty() {
        return Reply::error("users_list_not_supplied");
    }
    if users.len() > 8 {
        return Reply::error("too_many_users");
    }
    if !users.iter().all(|u| looks_like_user_id(u)) {
        return Reply::error("user_not_found");
    }
    let id = match users.as_slice() {
        [one] => format!("D{one}"),
        many => format!("G{}", many.join("")),
    };
    let already_open = !state.opened.insert(id.clone());
    let mut channel = json!({"id": id});
    if cx.str("return_im").as_deref() == Some("true") {
        channel["is_im"] = json!(users.len() == 1);
        channel["user"] = json!(users[0]);
        channel["created"] = json!(1_700_000_000);
    }
    let mut body = json!({"ok": true, "channel": channel});
    if already_open {
        body["no_op"] = json!(true);
        body["already_open"] = json!(true);
    }
    Reply::ok(body)
}

fn users_info(state: &State, cx: &Ctx) -> Reply {
    let id = cx.str("user").unwrap_or_default();
    let Some(user) = state.users.get(&id) else {
        return Reply::error("user_not_found");
    };
    let tz_offset = user
        .tz
        .parse::<chrono_tz::Tz>()
        .map(|tz| {
            Utc::now()
                .with_timezone(&tz)
                .offset()
                .fix()
                .local_minus_utc()
        })
        .unwrap_or(0);
    let team = cx.team();
    let mut body = json!({"ok": true, "user": {
        "id": id, "team_id": team.id, "name": user.name, "deleted": false, "color": "9f69e7",
        "real_name": user.name, "tz": user.tz, "tz_label": user.tz, "tz_offset": tz_offset,
        "is_admin": user.is_admin, "is_owner": false, "is_primary_owner": false,
        "is_restricted": false, "is_ultra_restricted": false, "is_bot": false,
        "is_app_user": false, "updated": 1_700_000_000,
        "profile": {
            "real_name": user.name, "real_name_normalized": user.name,
            "display_name": user.name, "display_name_normalized": user.name, "team": team.id,
        },
    }});
    if cx.str("include_locale").as_deref() == Some("true") {
        body["user"]["locale"] = json!("en-US");
    }
    Reply::ok(body)
}

fn oauth_access(state: &mut State, cx: &Ctx) -> Reply {
    let (client_id, client_secret) = match &cx.req.basic {
        Some((id, secret)) => (Some(id.clone()), Some(secret.clone())),
        None => (cx.str("client_id"), cx.str("client_secret")),
    };
    let (Some(client_id), Some(client_secret)) = (client_id, client_secret) else {
        return Reply::error("invalid_client_id");
    };
    if client_id.is_empty() {
        return Reply::error("invalid_client_id");
    }
    if let Some((id, secret)) = &state.oauth_client {
        if *id != client_id {
            return Reply::error("invalid_client_id");
        }
        if *secret != client_secret {
            return Reply::error("bad_client_secret");
        }
    } else if client_secret.is_empty() {
        return Reply::error("bad_client_secret");
    }
    let code = cx.str("code").unwrap_or_default();
    let Some(grant) = state.codes.get_mut(&code).filter(|g| !g.used) else {
        return Reply::error("invalid_code");
    };
    grant.used = true;
    let team = Team::new(&grant.team_id);
    let token = grant.bot_token.clone();
    state.teams.insert(token.clone(), team.clone());
    Reply::ok(json!({
        "ok": true, "access_token": token, "token_type": "bot",
        "scope": "commands,chat:write,im:write,users:read", "bot_user_id": team.bot_user_id,
        "app_id": APP_ID, "team": {"id": team.id, "name": team.name}, "enterprise": null,
        "authed_user": {"id": "UINSTALLER"}, "is_enterprise_install": false,
    }))
}

fn open_connection(state: &mut State, cx: &Ctx) -> Reply {
    let ticket = state.next_seq();
    state.tickets.insert(ticket);
    let origin = cx.base.replacen("http://", "ws://", 1);
    Reply::ok(json!({"ok": true, "url": format!("{origin}/socket?ticket={ticket}")}))
}

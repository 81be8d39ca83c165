//! The Web API endpoint: parses a call, checks it against the spec, then gates it (forced 429s,
//! auth, tier limits, injected failures) before the method itself runs, and records it.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

use super::{APP_TOKEN, Call, FakeSlack, State, Team, methods, spec};

/// A Web API call, parsed.
pub(super) struct Request {
    pub method: String,
    pub params: Map<String, Value>,
    /// Bearer token, or the `token` form field.
    pub token: Option<String>,
    /// `Authorization: Basic` credentials (oauth.v2.access).
    pub basic: Option<(String, String)>,
    pub json_body: bool,
    /// Problems with the request itself (body that does not parse, token in a JSON body…).
    pub problems: Vec<String>,
}

/// What one method handler gets.
pub(super) struct Ctx<'a> {
    pub req: &'a Request,
    /// The workspace the bot token belongs to; `None` for calls made without a bot token.
    pub team: Option<Team>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Ctx<'_> {
    /// A parameter as a string; numbers and booleans from JSON bodies are rendered.
    pub fn str(&self, name: &str) -> Option<String> {
        match self.req.params.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    pub fn team(&self) -> Team {
        self.team
            .clone()
            .unwrap_or_else(|| Team::new(super::TEAM_ID))
    }
}

/// An answer: HTTP status, optional `Retry-After`, JSON body.
pub(super) struct Reply {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            retry_after: None,
            body,
        }
    }

    pub fn error(error: &str) -> Reply {
        Reply::ok(json!({"ok": false, "error": error}))
    }

    pub fn error_with(error: &str, messages: &[String]) -> Reply {
        let metadata = json!({"messages": messages});
        Reply::ok(json!({"ok": false, "error": error, "response_metadata": metadata}))
    }

    pub fn rate_limited(retry_after: u64) -> Reply {
        Reply {
            status: 429,
            retry_after: Some(retry_after),
            body: json!({"ok": false, "error": "ratelimited"}),
        }
    }
}

pub(super) async fn handle(
    Extract(fake): Extract<FakeSlack>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let req = parse(method, query.as_deref(), &headers, &body);
    let base = fake.base_url();
    let reply = {
        let mut state = fake.state();
        let reply = answer(&mut state, &req, base);
        state.calls.push(Call {
            method: req.method.clone(),
            params: req.params.clone(),
            token: req.token.clone(),
            status: reply.status,
            response: reply.body.clone(),
            at,
        });
        reply
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut response = (status, axum::Json(reply.body)).into_response();
    if let Some(secs) = reply.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn parse(method: String, query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Request {
    let mut params = Map::new();
    let mut problems = Vec::new();
    if let Some(query) = query {
        match serde_urlencoded::from_str::<Vec<(String, String)>>(query) {
            Ok(pairs) => params.extend(pairs.into_iter().map(|(k, v)| (k, Value::String(v)))),
            Err(e) => problems.push(format!("query string does not parse: {e}")),
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let json_body = content_type.starts_with("application/json");
    if json_body {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => params.extend(fields),
            Ok(_) => problems.push("JSON body is not an object".into()),
            Err(e) => problems.push(format!("JSON body does not parse: {e}")),
        }
    } else if !body.is_empty() {
        if !content_type.starts_with("application/x-www-form-urlencoded") {
            problems.push(format!("unsupported Content-Type {content_type:?}"));
        }
        match serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
            Ok(pairs) => params.extend(pairs.into_iter().map(|(k, v)| (k, Value::String(v)))),
            Err(e) => problems.push(format!("form body does not parse: {e}")),
        }
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut token = authorization.strip_prefix("Bearer ").map(str::to_string);
    let basic = authorization
        .strip_prefix("Basic ")
        .and_then(basic_credentials);
    if json_body && params.contains_key("token") {
        problems.push("token in a JSON body (Slack reads it only from Authorization)".into());
    } else if token.is_none() {
        token = params
            .get("token")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    Request {
        method,
        params,
        token,
        basic,
        json_body,
        problems,
    }
}

fn basic_credentials(encoded: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.into(), secret.into()))
}

fn answer(state: &mut State, req: &Request, base: String) -> Reply {
    let mut violations = req.problems.clone();
    let reply = if !spec::is_known(&req.method) {
        violations.push("unknown method".into());
        Reply::error("unknown_method")
    } else {
        let check = spec::check(&req.method, &req.params, req.token.is_some(), req.json_body);
        violations.extend(check.violations);
        match gate(state, req) {
            Err(reply) => reply,
            Ok(_) if !check.missing.is_empty() => {
                Reply::error_with("invalid_arguments", &check.missing)
            }
            Ok(team) => {
                let cx = Ctx { req, team, base };
                methods::dispatch(state, &cx, &mut violations)
            }
        }
    };
    let method = &req.method;
    state
        .violations
        .extend(violations.into_iter().map(|v| format!("{method}: {v}")));
    reply
}

enum Auth {
    None,
    Bot,
    App,
}

fn auth_kind(method: &str) -> Auth {
    match method {
        "oauth.v2.access" | "oauth.access" | "api.test" => Auth::None,
        "apps.connections.open" => Auth::App,
        _ => Auth::Bot,
    }
}

/// Everything that can refuse a call before the method runs, in Slack's order as far as it
/// shows: forced 429s first, then auth, tier limits, and injected failures.
fn gate(state: &mut State, req: &Request) -> Result<Option<Team>, Reply> {
    if state.forced_429 > 0 {
        state.forced_429 -= 1;
        return Err(Reply::rate_limited(state.forced_retry_after));
    }
    let kind = auth_kind(&req.method);
    let team = match (&kind, req.token.as_deref()) {
        (Auth::None, _) => None,
        _ if state.revoked => return Err(Reply::error("token_revoked")),
        (_, None) => return Err(Reply::error("not_authed")),
        (Auth::App, Some(token)) if token == APP_TOKEN => None,
        (Auth::App, Some(token)) if token.starts_with("xapp-") => {
            return Err(Reply::error("invalid_auth"));
        }
        (Auth::App, Some(_)) => return Err(Reply::error("not_allowed_token_type")),
        (Auth::Bot, Some(token)) => match state.teams.get(token) {
            Some(team) => Some(team.clone()),
            None if token == APP_TOKEN => return Err(Reply::error("not_allowed_token_type")),
            None => return Err(Reply::error("invalid_auth")),
        },
    };
    let key = req.token.clone().unwrap_or_default();
    let channel = req
        .params
        .get("channel")
        .and_then(Value::as_str)
        .map(methods::resolve_channel);
    let limited = state
        .limiter
        .check(&key, &req.method, channel.as_deref(), Instant::now());
    if let Err(retry_after) = limited {
        return Err(Reply::rate_limited(retry_after));
    }
    let queued = state
        .fail_next
        .get_mut(&req.method)
        .and_then(|queue| queue.pop_front());
    if let Some(error) = queued.or_else(|| state.fail_always.get(&req.method).cloned()) {
        return Err(Reply::error(&error));
    }
    Ok(team)
}

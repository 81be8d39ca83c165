//! The HTTP endpoints of `peerpulse run`: Slack's signed webhooks and OAuth install,
//! `/healthz` and `/metrics`. Every Slack request is verified on its raw bytes before it is
//! parsed; bodies over 64 KiB are refused with 413.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::platform::slack::{Slack, oauth, verify};
use crate::store;
use crate::telemetry::Metrics;

pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct HttpState {
    pub db: store::Db,
    pub slack: Option<Arc<Slack>>,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/slack/commands", post(slack_commands))
        .route("/slack/interactions", post(slack_interactions))
        .route("/slack/events", post(slack_events))
        .route("/slack/install", get(slack_install))
        .route("/slack/oauth/callback", get(slack_oauth_callback))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            count_response,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Counts every answered request by route and status (`/metrics` itself excepted), including
/// refusals made before a handler runs, such as 413 for a body over the limit.
async fn count_response(
    State(state): State<HttpState>,
    route: MatchedPath,
    request: Request,
    next: Next,
) -> Response {
    let route = route.as_str().to_string();
    let response = next.run(request).await;
    if route != "/metrics" {
        state.metrics.count(
            "peerpulse_http_requests_total",
            &format!(
                "route=\"{route}\",status=\"{}\"",
                response.status().as_u16()
            ),
        );
    }
    response
}

async fn healthz(State(state): State<HttpState>) -> StatusCode {
    if store::ping(&state.db).await {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    let mut body = state.metrics.render();
    if let Ok(Some((pending, failed))) = store::outbox::counts(&state.db).await {
        body.push_str(&format!(
            "# TYPE peerpulse_outbox_pending gauge\npeerpulse_outbox_pending {pending}\n\
             # TYPE peerpulse_outbox_failed gauge\npeerpulse_outbox_failed {failed}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// Logs a refused signature: a warning at most once a minute (a wrong `SLACK_SIGNING_SECRET`
/// shows in the log without letting a flood of forgeries fill it), the rest at debug level.
fn warn_unsigned(route: &str, error: &verify::SignatureError, now: i64) {
    static LAST_WARNING: AtomicI64 = AtomicI64::new(i64::MIN);
    let last = LAST_WARNING.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 60
        && LAST_WARNING
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            route,
            %error,
            "refused a request that is not signed with SLACK_SIGNING_SECRET; if Slack's own \
             requests are refused, check that secret (further refusals this minute are logged \
             at debug level)"
        );
    } else {
        tracing::debug!(route, %error, "refused an unsigned or badly signed request");
    }
}

/// The Slack runtime, if Slack's HTTP side is configured, and whether the request is signed.
fn verified(
    state: &HttpState,
    route: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Arc<Slack>, StatusCode> {
    let Some(slack) = state.slack.clone() else {
        return Err(StatusCode::NOT_FOUND);
    };
    let Some(secret) = slack.settings.signing_secret.as_deref() else {
        return Err(StatusCode::NOT_FOUND);
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    match verify::verify(
        secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        now,
    ) {
        Ok(()) => Ok(slack),
        Err(error) => {
            state.metrics.count(
                "peerpulse_http_unauthorized_total",
                &format!("route=\"{route}\""),
            );
            warn_unsigned(route, &error, now);
            Err(StatusCode::UNAUTHORIZED)
        }
    }
}

async fn slack_commands(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = "/slack/commands";
    let slack = match verified(&state, route, &headers, &body) {
        Ok(slack) => slack,
        Err(status) => return status.into_response(),
    };
    let Some(fields) = crate::platform::slack::inbound::form_to_json(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if fields.get("ssl_check").and_then(Value::as_str) == Some("1") {
        return StatusCode::OK.into_response();
    }
    outcome(slack.on_command(&fields).await).into_response()
}

async fn slack_interactions(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = "/slack/interactions";
    let slack = match verified(&state, route, &headers, &body) {
        Ok(slack) => slack,
        Err(status) => return status.into_response(),
    };
    let payload = crate::platform::slack::inbound::form_to_json(&body)
        .and_then(|f| f.get("payload").and_then(Value::as_str).map(str::to_string))
        .and_then(|p| serde_json::from_str::<Value>(&p).ok());
    let Some(payload) = payload else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    outcome(slack.on_interaction(&payload).await).into_response()
}

async fn slack_events(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let route = "/slack/events";
    let slack = match verified(&state, route, &headers, &body) {
        Ok(slack) => slack,
        Err(status) => return status.into_response(),
    };
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match slack.on_event(&event).await {
        Ok(Ok(Some(challenge))) => axum::Json(json!({ "challenge": challenge })).into_response(),
        Ok(Ok(None)) => StatusCode::OK.into_response(),
        Ok(Err(_)) => StatusCode::BAD_REQUEST.into_response(),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "Slack event failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// 200 once the event is stored (its replies are in the outbox); 400 for a malformed payload.
fn outcome(
    result: anyhow::Result<Result<(), crate::platform::slack::inbound::Malformed>>,
) -> StatusCode {
    match result {
        Ok(Ok(())) => StatusCode::OK,
        Ok(Err(malformed)) => {
            tracing::debug!(%malformed, "refused a malformed Slack payload");
            StatusCode::BAD_REQUEST
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "Slack request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

async fn slack_install(State(state): State<HttpState>) -> Response {
    let Some(slack) = state.slack.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = chrono::Utc::now().timestamp();
    let Some((location, cookie_state)) = oauth::start(&slack, now) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cookie = format!(
        "{}={cookie_state}; Max-Age=600; Path=/slack/oauth; HttpOnly; SameSite=Lax",
        oauth::STATE_COOKIE
    );
    (
        StatusCode::FOUND,
        [(header::LOCATION, location), (header::SET_COOKIE, cookie)],
    )
        .into_response()
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn slack_oauth_callback(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(query): Query<Callback>,
) -> Response {
    let Some(slack) = state.slack.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(error) = query.error {
        return page(
            StatusCode::BAD_REQUEST,
            &format!("The install was cancelled ({}).", html_escape(&error)),
        );
    }
    let (Some(code), Some(oauth_state)) = (query.code, query.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "The install link is incomplete; start again from /slack/install.",
        );
    };
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == oauth::STATE_COOKIE)
        .map(|(_, value)| value.to_string());
    let now = chrono::Utc::now().timestamp();
    match oauth::finish(&slack, &code, &oauth_state, cookie.as_deref(), now).await {
        Ok(Ok(team)) => page(
            StatusCode::OK,
            &format!(
                "peerpulse is installed in {}. Type <code>/pulse setup</code> in a team channel to start.",
                html_escape(&team)
            ),
        ),
        Ok(Err(oauth::InstallError::BadState)) => page(
            StatusCode::FORBIDDEN,
            &oauth::InstallError::BadState.to_string(),
        ),
        Ok(Err(error)) => page(StatusCode::BAD_GATEWAY, &html_escape(&error.to_string())),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "install failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
        }
    }
}

fn page(status: StatusCode, body: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html><title>peerpulse</title><p>{body}</p>"
        )),
    )
        .into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

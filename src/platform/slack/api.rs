//! A hand-written Slack Web API client on reqwest, against `SLACK_API_URL`. Calls are
//! form-encoded POSTs with the token in the `Authorization` header, spaced by [`Limiter`].

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::limits::Limiter;

pub const DEFAULT_API_URL: &str = "https://slack.com/api";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("rate limited for {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// Not sent: our own rate limits would hold the call longer than its patience. Nothing
    /// was attempted; ask again after `wait`.
    #[error("held by our rate limits for {wait:?}")]
    Held { wait: Duration },
    /// `ok: false` with Slack's error code.
    #[error("slack error: {0}")]
    Slack(String),
    #[error("transport: {0}")]
    Transport(String),
}

/// How long a message's call may wait for its slot under our rate limits. Beyond that it is
/// not sent now but put off ([`ApiError::Held`]), so that a long queue for one method never
/// holds the delivery of others, and no call outwaits its outbox lease.
pub const DELIVERY_PATIENCE: Duration = Duration::from_secs(20);

/// A person as `users.info` describes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub tz: Option<String>,
    pub is_admin: bool,
}

/// What `oauth.v2.access` grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub team_id: String,
    pub team_name: String,
    pub bot_token: String,
    pub bot_user_id: Option<String>,
}

pub struct SlackApi {
    http: reqwest::Client,
    base: String,
    limiter: Limiter,
}

impl SlackApi {
    pub fn new(base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("peerpulse/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        SlackApi {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            limiter: Limiter::default(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Calls `method` with form fields `params` (JSON values are sent as JSON text).
    pub async fn call(&self, token: &str, method: &str, params: Value) -> Result<Value, ApiError> {
        self.call_within(token, method, params, None).await
    }

    /// [`SlackApi::call`], refused at once (as rate limited) when our own limits would hold the
    /// call longer than `patience`.
    pub async fn call_within(
        &self,
        token: &str,
        method: &str,
        params: Value,
        patience: Option<Duration>,
    ) -> Result<Value, ApiError> {
        let channel = params
            .get("channel")
            .and_then(Value::as_str)
            .map(str::to_string);
        let scope = scope_of(token);
        match patience {
            None => {
                self.limiter
                    .acquire(&scope, method, channel.as_deref())
                    .await
            }
            Some(patience) => {
                self.limiter
                    .acquire_within(&scope, method, channel.as_deref(), patience)
                    .await
                    .map_err(|wait| ApiError::Held { wait })?;
            }
        }
        let form = form_fields(params);
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(token)
            .form(&form)
            .send()
            .await
            .map_err(|e| ApiError::Transport(without_url(e)))?;
        let status = response.status();
        if status.as_u16() == 429 {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(30);
            let retry_after = Duration::from_secs(retry_after.max(1));
            self.limiter.block(&scope, method, retry_after);
            return Err(ApiError::RateLimited { retry_after });
        }
        if status.is_server_error() {
            return Err(ApiError::Transport(format!("{method}: HTTP {status}")));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| ApiError::Transport(without_url(e)))?;
        if body.get("ok").and_then(Value::as_bool) == Some(true) {
            Ok(body)
        } else {
            let error = body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown_error");
            Err(ApiError::Slack(error.to_string()))
        }
    }

    /// Opens (or finds) the DM channel with a person.
    pub async fn conversations_open(&self, token: &str, user: &str) -> Result<String, ApiError> {
        let body = self
            .call_within(
                token,
                "conversations.open",
                json!({"users": user}),
                Some(DELIVERY_PATIENCE),
            )
            .await?;
        body.pointer("/channel/id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::Transport("conversations.open without channel id".into()))
    }

    /// Posts a message; returns its `ts`.
    pub async fn post_message(
        &self,
        token: &str,
        channel: &str,
        text: &str,
        blocks: &Value,
    ) -> Result<String, ApiError> {
        let body = self
            .call_within(
                token,
                "chat.postMessage",
                json!({"channel": channel, "text": text, "blocks": blocks}),
                Some(DELIVERY_PATIENCE),
            )
            .await?;
        Ok(body
            .get("ts")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    pub async fn post_ephemeral(
        &self,
        token: &str,
        channel: &str,
        user: &str,
        text: &str,
        blocks: &Value,
    ) -> Result<(), ApiError> {
        self.call_within(
            token,
            "chat.postEphemeral",
            json!({"channel": channel, "user": user, "text": text, "blocks": blocks}),
            Some(DELIVERY_PATIENCE),
        )
        .await
        .map(drop)
    }

    pub async fn update(
        &self,
        token: &str,
        channel: &str,
        ts: &str,
        text: &str,
        blocks: &Value,
    ) -> Result<(), ApiError> {
        self.call_within(
            token,
            "chat.update",
            json!({"channel": channel, "ts": ts, "text": text, "blocks": blocks}),
            Some(DELIVERY_PATIENCE),
        )
        .await
        .map(drop)
    }

    pub async fn views_open(
        &self,
        token: &str,
        trigger_id: &str,
        view: &Value,
    ) -> Result<(), ApiError> {
        self.call(
            token,
            "views.open",
            json!({"trigger_id": trigger_id, "view": view}),
        )
        .await
        .map(drop)
    }

    /// The person's profile; refused at once when our limits would hold the call longer
    /// than `patience`.
    pub async fn users_info(
        &self,
        token: &str,
        user: &str,
        patience: Duration,
    ) -> Result<UserInfo, ApiError> {
        let body = self
            .call_within(token, "users.info", json!({"user": user}), Some(patience))
            .await?;
        let user = &body["user"];
        let name = [
            user.pointer("/profile/display_name"),
            user.get("real_name"),
            user.get("name"),
        ]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|s| !s.is_empty())
        .unwrap_or_default()
        .to_string();
        Ok(UserInfo {
            name,
            tz: user.get("tz").and_then(Value::as_str).map(str::to_string),
            is_admin: user
                .get("is_admin")
                .and_then(Value::as_bool)
                .unwrap_or(false)
                || user
                    .get("is_owner")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
        })
    }

    /// Uploads a file the external way (`files.getUploadURLExternal`, a POST of the bytes,
    /// `files.completeUploadExternal`) and shares it in `channel`. Returns the file id.
    pub async fn upload_file(
        &self,
        token: &str,
        channel: &str,
        filename: &str,
        title: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ApiError> {
        let ticket = self
            .call(
                token,
                "files.getUploadURLExternal",
                json!({"filename": filename, "length": bytes.len()}),
            )
            .await?;
        let (Some(url), Some(file_id)) = (
            ticket.get("upload_url").and_then(Value::as_str),
            ticket.get("file_id").and_then(Value::as_str),
        ) else {
            return Err(ApiError::Transport(
                "files.getUploadURLExternal without upload_url".into(),
            ));
        };
        let uploaded = self
            .http
            .post(url)
            .body(bytes)
            .send()
            .await
            .map_err(|e| ApiError::Transport(without_url(e)))?;
        if !uploaded.status().is_success() {
            return Err(ApiError::Transport(format!(
                "upload: HTTP {}",
                uploaded.status()
            )));
        }
        let files = json!([{"id": file_id, "title": title}]);
        self.call(
            token,
            "files.completeUploadExternal",
            json!({"files": files, "channel_id": channel}),
        )
        .await?;
        Ok(file_id.to_string())
    }

    /// Opens a Socket Mode connection with an app-level token; returns the websocket URL.
    pub async fn connections_open(&self, app_token: &str) -> Result<String, ApiError> {
        let body = self
            .call(app_token, "apps.connections.open", json!({}))
            .await?;
        body.get("url")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::Transport("apps.connections.open without url".into()))
    }

    /// Exchanges an OAuth code for a bot token.
    pub async fn oauth_access(
        &self,
        client_id: &str,
        client_secret: &str,
        code: &str,
    ) -> Result<Grant, ApiError> {
        let response = self
            .http
            .post(format!("{}/oauth.v2.access", self.base))
            .form(&[
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("code", code),
            ])
            .send()
            .await
            .map_err(|e| ApiError::Transport(without_url(e)))?;
        let body: Value = response
            .json()
            .await
            .map_err(|e| ApiError::Transport(without_url(e)))?;
        if body.get("ok").and_then(Value::as_bool) != Some(true) {
            let error = body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown_error");
            return Err(ApiError::Slack(error.to_string()));
        }
        let text = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(Grant {
            team_id: text("/team/id")
                .ok_or_else(|| ApiError::Transport("grant without team".into()))?,
            team_name: text("/team/name").unwrap_or_default(),
            bot_token: text("/access_token")
                .ok_or_else(|| ApiError::Transport("grant without token".into()))?,
            bot_user_id: text("/bot_user_id"),
        })
    }
}

/// Rate limits apply per workspace; the token identifies it without being kept in clear.
fn scope_of(token: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(token.as_bytes())[..8])
}

fn form_fields(params: Value) -> Vec<(String, String)> {
    let Value::Object(map) = params else {
        return Vec::new();
    };
    let map: Map<String, Value> = map;
    map.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect()
}

/// reqwest errors may print the URL; upload URLs carry credentials.
fn without_url(error: reqwest::Error) -> String {
    error.without_url().to_string()
}

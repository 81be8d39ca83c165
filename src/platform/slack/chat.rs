//! Delivery to Slack: the neutral message rendered to Block Kit and sent with the workspace's
//! bot token; Slack's errors mapped to what the outbox should do about them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::message::{Destination, Message};
use crate::platform::{Chat, ChatError};
use crate::secrets::SecretKey;
use crate::store::{self, Db};

use super::api::{ApiError, SlackApi};
use super::blocks;

/// Where bot tokens come from: one `SLACK_BOT_TOKEN` for a single workspace, and/or OAuth
/// installs stored encrypted.
pub struct Tokens {
    db: Db,
    single: Option<String>,
    key: SecretKey,
    cache: Mutex<HashMap<i64, String>>,
}

impl Tokens {
    pub fn new(db: Db, single: Option<String>, key: SecretKey) -> Self {
        Tokens {
            db,
            single,
            key,
            cache: Mutex::default(),
        }
    }

    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// The bot token for a workspace, if it has one.
    pub async fn for_workspace(&self, workspace_id: i64) -> Option<String> {
        if let Some(token) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&workspace_id)
        {
            return Some(token.clone());
        }
        let sealed = match self.db.acquire().await {
            Ok(mut conn) => store::slack::sealed_token(&mut conn, workspace_id)
                .await
                .ok()
                .flatten(),
            Err(_) => None,
        };
        let token = match sealed {
            Some(sealed) => match self.key.open(&sealed) {
                Ok(token) => Some(token),
                Err(error) => {
                    tracing::error!(workspace = workspace_id, %error, "stored bot token unreadable");
                    None
                }
            },
            None => self.single.clone(),
        }?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(workspace_id, token.clone());
        Some(token)
    }

    pub fn forget(&self, workspace_id: i64) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&workspace_id);
    }
}

pub struct SlackChat {
    pub api: Arc<SlackApi>,
    pub tokens: Arc<Tokens>,
    pub db: Db,
}

impl SlackChat {
    async fn dm_channel(
        &self,
        token: &str,
        workspace_id: i64,
        user: &str,
    ) -> Result<String, ChatError> {
        let mut conn = self.db.acquire().await.map_err(retry)?;
        if let Some(channel) = store::slack::dm_channel(&mut conn, workspace_id, user)
            .await
            .map_err(retry)?
        {
            return Ok(channel);
        }
        drop(conn);
        let channel = self
            .api
            .conversations_open(token, user)
            .await
            .map_err(|e| map_error(e, Some(user), None))?;
        let mut conn = self.db.acquire().await.map_err(retry)?;
        store::slack::save_dm_channel(&mut conn, workspace_id, user, &channel)
            .await
            .map_err(retry)?;
        Ok(channel)
    }
}

impl Chat for SlackChat {
    fn parallelism(&self) -> usize {
        32
    }

    async fn send(
        &self,
        workspace_id: i64,
        to: &Destination,
        message: &Message,
    ) -> Result<(), ChatError> {
        let Some(token) = self.tokens.for_workspace(workspace_id).await else {
            return Err(ChatError::WorkspaceRevoked(
                "no bot token for this workspace".into(),
            ));
        };
        let (text, blocks) = blocks::render(message);
        let result = match to {
            Destination::Dm { user } => {
                let channel = self.dm_channel(&token, workspace_id, user).await?;
                self.api
                    .post_message(&token, &channel, &text, &blocks)
                    .await
                    .map(drop)
                    .map_err(|e| map_error(e, Some(user), None))
            }
            Destination::Channel { channel } => self
                .api
                .post_message(&token, channel, &text, &blocks)
                .await
                .map(drop)
                .map_err(|e| map_error(e, None, Some(channel))),
            Destination::Private { user, channel } => self
                .api
                .post_ephemeral(&token, channel, user, &text, &blocks)
                .await
                .map_err(|e| map_error(e, Some(user), None)),
            Destination::Replace {
                user,
                channel,
                message,
            } => self
                .api
                .update(&token, channel, message, &text, &blocks)
                .await
                .map_err(|e| map_error(e, Some(user), None)),
        };
        if matches!(result, Err(ChatError::WorkspaceRevoked(_))) {
            self.tokens.forget(workspace_id);
        }
        result
    }
}

fn retry(error: sqlx::Error) -> ChatError {
    ChatError::Retry {
        reason: error.to_string(),
        retry_after: None,
    }
}

/// What an API failure means for the message: wait and retry, the person left, the channel
/// is unusable, the workspace's token is dead, or give up.
pub fn map_error(error: ApiError, user: Option<&str>, channel: Option<&str>) -> ChatError {
    match error {
        ApiError::Held { wait } => ChatError::Held { wait },
        ApiError::RateLimited { retry_after } => ChatError::Retry {
            reason: "rate limited".into(),
            retry_after: Some(retry_after),
        },
        ApiError::Transport(reason) => ChatError::Retry {
            reason,
            retry_after: None,
        },
        ApiError::Slack(code) => match code.as_str() {
            "invalid_auth"
            | "token_revoked"
            | "token_expired"
            | "app_uninstalled"
            | "not_authed"
            | "team_access_not_granted" => ChatError::WorkspaceRevoked(code),
            "account_inactive" | "user_not_found" | "user_disabled" if user.is_some() => {
                ChatError::RecipientGone {
                    user: user.unwrap_or_default().to_string(),
                    reason: code,
                }
            }
            "channel_not_found" | "not_in_channel" | "is_archived" if channel.is_some() => {
                ChatError::ChannelUnavailable {
                    channel: channel.unwrap_or_default().to_string(),
                    reason: code,
                }
            }
            "ratelimited"
            | "internal_error"
            | "fatal_error"
            | "service_unavailable"
            | "request_timeout" => ChatError::Retry {
                reason: code,
                retry_after: None,
            },
            _ => ChatError::Rejected(code),
        },
    }
}

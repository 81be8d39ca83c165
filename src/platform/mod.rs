//! Platforms: each parses its inbound payloads into core events and renders the neutral
//! message model through the [`Chat`] trait. Platforms never import each other.

pub mod console;
pub mod slack;

use std::future::Future;
use std::time::Duration;

use crate::domain::message::{Destination, Message};

/// Sends rendered messages to a chat platform.
pub trait Chat: Send + Sync {
    fn send(
        &self,
        workspace_id: i64,
        to: &Destination,
        message: &Message,
    ) -> impl Future<Output = Result<(), ChatError>> + Send;

    /// How many destinations may be sent to at once. Messages to one destination always go
    /// in order.
    fn parallelism(&self) -> usize {
        1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// Worth trying again, after `retry_after` when the platform said so (429).
    #[error("temporary failure: {reason}")]
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Not attempted: our own rate limits hold it for `wait`. Not a failed attempt; it goes
    /// back to the outbox until then.
    #[error("held by rate limits for {wait:?}")]
    Held { wait: Duration },
    /// Will never succeed.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The person is gone from the workspace (deactivated, deleted): they leave their teams.
    #[error("recipient gone: {reason}")]
    RecipientGone { user: String, reason: String },
    /// The bot cannot post in this channel (archived, deleted, not invited).
    #[error("channel unavailable: {reason}")]
    ChannelUnavailable { channel: String, reason: String },
    /// The workspace's credentials no longer work: it is disabled until reinstalled, and its
    /// messages wait.
    #[error("workspace credentials revoked: {0}")]
    WorkspaceRevoked(String),
}

//! Platforms: each parses its inbound payloads into core events and renders the neutral
//! message model through the [`Chat`] trait. Platforms never import each other.

pub mod console;

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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// Worth trying again, after `retry_after` when the platform said so (429).
    #[error("temporary failure: {reason}")]
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Will never succeed (unknown user, channel gone, revoked token).
    #[error("rejected: {0}")]
    Rejected(String),
}

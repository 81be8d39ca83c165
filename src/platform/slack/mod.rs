//! Slack: signed HTTP endpoints and Socket Mode in, the Web API out.

pub mod api;
pub mod blocks;
pub mod chat;
pub mod inbound;
pub mod limits;
pub mod manifest;
pub mod oauth;
pub mod runtime;
pub mod socket;
pub mod verify;

pub use runtime::{Slack, SlackSettings};

//! peerpulse: anonymous peer check-ins and burnout signals for Slack and Discord teams.
//!
//! Data flows one way: a platform payload is parsed into a typed [`app::Inbound`] event, a use
//! case decides, state changes and outgoing messages are written in one transaction (the
//! outbox), and the delivery worker renders them through a platform's [`platform::Chat`].

pub mod app;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod outbox;
pub mod platform;
pub mod scheduler;
pub mod secrets;
pub mod server;
pub mod store;
pub mod telemetry;

//! Socket Mode: `apps.connections.open` with the app-level token, a websocket, every envelope
//! acknowledged with its `envelope_id` once handled, and reconnection on `disconnect`
//! messages and dropped connections, with backoff.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as Ws;

use super::Slack;

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Keeps a Socket Mode connection open until `stop` turns true.
pub async fn run(slack: Arc<Slack>, app_token: String, mut stop: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    loop {
        if *stop.borrow() {
            return;
        }
        match session(&slack, &app_token, &mut stop).await {
            Ok(Ending::Stopped) => return,
            Ok(Ending::Disconnected) => {
                failures = 0;
                tracing::info!("Socket Mode connection ended by Slack; reconnecting");
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::warn!(
                    error = format!("{error:#}"),
                    failures,
                    "Socket Mode connection failed"
                );
            }
        }
        let delay = backoff(failures);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return,
        }
    }
}

fn backoff(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::from_millis(rand::rng().random_range(0..250));
    }
    let base = Duration::from_millis(500)
        .saturating_mul(1 << failures.min(6))
        .min(MAX_BACKOFF);
    base / 2 + Duration::from_millis(rand::rng().random_range(0..=base.as_millis() as u64 / 2))
}

enum Ending {
    Stopped,
    Disconnected,
}

async fn session(
    slack: &Arc<Slack>,
    app_token: &str,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<Ending> {
    let url = slack.api.connections_open(app_token).await?;
    let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
    let (mut sink, mut stream) = socket.split();
    let (out, mut outgoing) = mpsc::channel::<Ws>(256);
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            if sink.send(message).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let ending = loop {
        let frame = tokio::select! {
            frame = stream.next() => frame,
            _ = stop.changed() => break Ending::Stopped,
        };
        let text = match frame {
            Some(Ok(Ws::Text(text))) => text,
            Some(Ok(Ws::Ping(data))) => {
                let _ = out.send(Ws::Pong(data)).await;
                continue;
            }
            Some(Ok(Ws::Close(_))) | None => break Ending::Disconnected,
            Some(Ok(_)) => continue,
            Some(Err(error)) => {
                drop(out);
                let _ = writer.await;
                return Err(error.into());
            }
        };
        let Ok(envelope) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        match envelope.get("type").and_then(Value::as_str) {
            Some("hello") => tracing::info!("Socket Mode connected"),
            Some("disconnect") => break Ending::Disconnected,
            _ => {
                let Some(id) = envelope
                    .get("envelope_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                else {
                    continue;
                };
                let slack = slack.clone();
                let out = out.clone();
                tokio::spawn(async move {
                    handle(&slack, &envelope).await;
                    let ack = json!({ "envelope_id": id }).to_string();
                    let _ = out.send(Ws::Text(ack)).await;
                });
            }
        }
    };
    drop(out);
    let _ = writer.await;
    Ok(ending)
}

async fn handle(slack: &Slack, envelope: &Value) {
    let payload = envelope.get("payload").cloned().unwrap_or(Value::Null);
    let result = match envelope.get("type").and_then(Value::as_str) {
        Some("slash_commands") => slack
            .on_command(&payload)
            .await
            .map(|r| r.map_err(|m| m.to_string())),
        Some("interactive") => slack
            .on_interaction(&payload)
            .await
            .map(|r| r.map_err(|m| m.to_string())),
        Some("events_api") => slack
            .on_event(&payload)
            .await
            .map(|r| r.map(drop).map_err(|m| m.to_string())),
        _ => Ok(Ok(())),
    };
    match result {
        Ok(Ok(())) => {}
        Ok(Err(malformed)) => tracing::warn!(%malformed, "ignored a malformed Socket Mode payload"),
        Err(error) => tracing::error!(error = format!("{error:#}"), "Socket Mode payload failed"),
    }
}

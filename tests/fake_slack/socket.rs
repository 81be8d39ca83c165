//! Socket Mode: `apps.connections.open` hands out a single-use `ws://…/socket?ticket=N`; on
//! connect the fake says `hello`, then sends envelopes and waits for their acks, and can end a
//! connection politely (`disconnect`) or by dropping it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State as Extract};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep, timeout};

use super::FakeSlack;

const WAIT: Duration = Duration::from_secs(5);

enum Out {
    Text(String),
    /// Send this `disconnect` message, then close.
    Disconnect(String),
    /// Close the TCP connection with no message at all.
    Drop,
}

/// Open connections and the acks being waited for.
#[derive(Default)]
pub(super) struct Hub {
    connections: Mutex<Vec<(u64, mpsc::UnboundedSender<Out>)>>,
    waiters: Mutex<HashMap<String, oneshot::Sender<Value>>>,
    acks: Mutex<Vec<Value>>,
    total: AtomicUsize,
    next: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) async fn connect(
    Extract(fake): Extract<FakeSlack>,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let ticket = query.get("ticket").and_then(|t| t.parse::<u64>().ok());
    let valid = ticket.is_some_and(|t| fake.state().tickets.remove(&t));
    if !valid {
        return (StatusCode::UNAUTHORIZED, "unknown or used ticket").into_response();
    }
    upgrade.on_upgrade(move |socket| serve(fake, socket))
}

async fn serve(fake: FakeSlack, mut socket: WebSocket) {
    let hub = &fake.inner.hub;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = hub.next.fetch_add(1, Ordering::SeqCst);
    let count = {
        let mut connections = lock(&hub.connections);
        connections.push((id, tx));
        connections.len()
    };
    hub.total.fetch_add(1, Ordering::SeqCst);
    let hello = json!({
        "type": "hello", "num_connections": count, "debug_info": {"host": "fake"},
        "connection_info": {"app_id": super::APP_ID},
    });
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_ok()
    {
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => fake.on_client_message(text.as_str()),
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                out = rx.recv() => match out {
                    Some(Out::Text(text)) => {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    Some(Out::Disconnect(text)) => {
                        let _ = socket.send(Message::Text(text.into())).await;
                        let _ = socket.send(Message::Close(None)).await;
                        break;
                    }
                    Some(Out::Drop) | None => break,
                },
            }
        }
    }
    lock(&hub.connections).retain(|(c, _)| *c != id);
}

impl FakeSlack {
    fn on_client_message(&self, text: &str) {
        let hub = &self.inner.hub;
        let parsed = serde_json::from_str::<Value>(text).ok();
        let envelope_id = parsed
            .as_ref()
            .and_then(|v| v["envelope_id"].as_str())
            .map(str::to_string);
        match (parsed, envelope_id) {
            (Some(ack), Some(envelope_id)) => {
                lock(&hub.acks).push(ack.clone());
                if let Some(waiter) = lock(&hub.waiters).remove(&envelope_id) {
                    let _ = waiter.send(ack);
                }
            }
            _ => {
                let problem = format!("socket mode: client sent something not an ack: {text}");
                self.state().violations.push(problem);
            }
        }
    }

    /// Currently open Socket Mode connections.
    pub fn socket_connections(&self) -> usize {
        lock(&self.inner.hub.connections).len()
    }

    /// Connections ever opened.
    pub fn socket_connects_total(&self) -> usize {
        self.inner.hub.total.load(Ordering::SeqCst)
    }

    /// Every ack received, in order.
    pub fn socket_acks(&self) -> Vec<Value> {
        lock(&self.inner.hub.acks).clone()
    }

    /// Wraps `payload` in an envelope as Slack does, sends it to the newest connection (waiting
    /// up to 5 s for one) and returns the ack, which must come within 5 s.
    pub async fn socket_send(&self, envelope_type: &str, payload: Value) -> Value {
        let n = self.inner.hub.next.fetch_add(1, Ordering::SeqCst);
        let envelope = json!({
            "envelope_id": format!("5eed0000-0000-4000-8000-{n:012x}"),
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": false,
            "retry_attempt": 0,
            "retry_reason": "",
        });
        self.socket_send_envelope(envelope).await
    }

    /// Sends an envelope exactly as given (e.g. a retry with `retry_attempt` 1) and returns the ack.
    pub async fn socket_send_envelope(&self, envelope: Value) -> Value {
        let hub = &self.inner.hub;
        let id = envelope["envelope_id"]
            .as_str()
            .expect("an envelope has an envelope_id")
            .to_string();
        let (ack_tx, ack_rx) = oneshot::channel();
        lock(&hub.waiters).insert(id.clone(), ack_tx);
        let deadline = Instant::now() + WAIT;
        loop {
            let newest = lock(&hub.connections).last().map(|(_, tx)| tx.clone());
            if let Some(tx) = newest
                && tx.send(Out::Text(envelope.to_string())).is_ok()
            {
                break;
            }
            if Instant::now() >= deadline {
                panic!("no Socket Mode client connected within 5 s to receive {envelope}");
            }
            sleep(Duration::from_millis(10)).await;
        }
        match timeout(WAIT, ack_rx).await {
            Ok(Ok(ack)) => ack,
            _ => panic!("no ack for envelope {id} within 5 s"),
        }
    }

    /// Sends `disconnect` with `reason` to every open connection and closes them.
    pub async fn socket_disconnect(&self, reason: &str) {
        let message =
            json!({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}});
        self.end_connections(|| Out::Disconnect(message.to_string()))
            .await;
    }

    /// Closes every open connection's TCP stream without a word.
    pub async fn socket_drop(&self) {
        self.end_connections(|| Out::Drop).await;
    }

    async fn end_connections(&self, out: impl Fn() -> Out) {
        let hub = &self.inner.hub;
        let ended: Vec<u64> = lock(&hub.connections)
            .iter()
            .filter(|(_, tx)| tx.send(out()).is_ok())
            .map(|(id, _)| *id)
            .collect();
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            let open = lock(&hub.connections)
                .iter()
                .any(|(id, _)| ended.contains(id));
            if !open {
                return;
            }
            sleep(Duration::from_millis(5)).await;
        }
    }
}

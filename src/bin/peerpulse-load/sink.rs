//! An in-process stand-in for Slack's Web API: every method answers `{"ok": true, ...}` with
//! plausible fields, calls are counted per method, and (optionally) Slack's rate limits are
//! enforced the way Slack enforces them: a sliding minute per method (Tier 3: 50, Tier 4:
//! 100) and `chat.postMessage` at one per second per channel. Over a limit: 429 with
//! `Retry-After` in whole seconds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

const MINUTE: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);

/// The user `users.info` reports as a workspace admin.
pub const ADMIN: &str = "UADMIN0001";

/// Slack's limit for a method: calls per sliding minute, or one per second per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Unlimited,
    PerMinute(usize),
    PerChannel,
}

pub fn limit_of(method: &str) -> Limit {
    match method {
        "chat.postMessage" => Limit::PerChannel,
        "conversations.open" | "chat.update" => Limit::PerMinute(50),
        "chat.postEphemeral" | "users.info" | "views.open" => Limit::PerMinute(100),
        _ => Limit::Unlimited,
    }
}

/// Calls of one method: answered, and refused with 429.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub ok: u64,
    pub limited: u64,
}

#[derive(Default)]
struct Inner {
    counts: BTreeMap<String, Counts>,
    /// Accepted calls per method within the last minute (limits on only).
    windows: HashMap<String, VecDeque<Instant>>,
    /// The last accepted `chat.postMessage` per channel.
    last_post: HashMap<String, Instant>,
    /// When each accepted `conversations.open` and each DM `chat.postMessage` arrived.
    opens: Vec<Instant>,
    dm_posts: Vec<Instant>,
    /// When each `conversations.open` answered 429 arrived.
    refused_opens: Vec<Instant>,
}

struct Shared {
    limits: AtomicBool,
    next_ts: AtomicU64,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A snapshot of what the sink has seen since the last [`Sink::reset`].
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub counts: BTreeMap<String, Counts>,
    pub opens: Vec<Instant>,
    pub dm_posts: Vec<Instant>,
    pub refused_opens: Vec<Instant>,
}

impl Seen {
    pub fn total(&self) -> Counts {
        self.counts.values().fold(Counts::default(), |a, c| Counts {
            ok: a.ok + c.ok,
            limited: a.limited + c.limited,
        })
    }

    pub fn method(&self, method: &str) -> Counts {
        self.counts.get(method).copied().unwrap_or_default()
    }
}

#[derive(Clone)]
pub struct Sink {
    shared: Arc<Shared>,
    pub addr: SocketAddr,
}

impl Sink {
    /// Starts the sink on 127.0.0.1 (a free port); `limits` turns Slack's limits on.
    pub async fn start(limits: bool) -> anyhow::Result<Sink> {
        let shared = Arc::new(Shared {
            limits: AtomicBool::new(limits),
            next_ts: AtomicU64::new(1),
            inner: Mutex::default(),
        });
        let router = Router::new()
            .route("/api/{method}", post(call))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                eprintln!("sink failed: {error}");
            }
        });
        Ok(Sink { shared, addr })
    }

    /// The `SLACK_API_URL` to give the bot.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Forgets the counts and arrival times (the limit windows stay, as Slack's would).
    pub fn reset(&self) {
        let mut inner = self.shared.lock();
        inner.counts.clear();
        inner.opens.clear();
        inner.dm_posts.clear();
        inner.refused_opens.clear();
    }

    pub fn seen(&self) -> Seen {
        let inner = self.shared.lock();
        Seen {
            counts: inner.counts.clone(),
            opens: inner.opens.clone(),
            dm_posts: inner.dm_posts.clone(),
            refused_opens: inner.refused_opens.clone(),
        }
    }

    /// How many DM `chat.postMessage` calls were answered, and how many calls got 429.
    pub fn progress(&self) -> (usize, u64) {
        let inner = self.shared.lock();
        let limited = inner.counts.values().map(|c| c.limited).sum();
        (inner.dm_posts.len(), limited)
    }
}

async fn call(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    body: Bytes,
) -> Response {
    let fields: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    let channel = field("channel");
    let now = Instant::now();
    {
        let mut inner = shared.lock();
        if shared.limits.load(Ordering::Relaxed)
            && let Err(wait) = admit(&mut inner, &method, channel, now)
        {
            if method == "conversations.open" {
                inner.refused_opens.push(now);
            }
            inner.counts.entry(method).or_default().limited += 1;
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, seconds.to_string())],
                axum::Json(json!({"ok": false, "error": "ratelimited"})),
            )
                .into_response();
        }
        inner.counts.entry(method.clone()).or_default().ok += 1;
        match method.as_str() {
            "conversations.open" => inner.opens.push(now),
            "chat.postMessage" if channel.starts_with('D') => inner.dm_posts.push(now),
            _ => {}
        }
    }
    let n = shared.next_ts.fetch_add(1, Ordering::Relaxed);
    let ts = format!("1764000000.{n:06}");
    let body = match method.as_str() {
        "conversations.open" => {
            let user = field("users").split(',').next().unwrap_or("");
            json!({"ok": true, "channel": {"id": format!("D{user}")}})
        }
        "chat.postMessage" => json!({"ok": true, "channel": channel, "ts": ts,
            "message": {"type": "message", "text": field("text"), "ts": ts}}),
        "chat.postEphemeral" => json!({"ok": true, "message_ts": ts}),
        "chat.update" => json!({"ok": true, "channel": channel, "ts": field("ts"),
            "text": field("text")}),
        "users.info" => {
            let user = field("user");
            let name = user.to_ascii_lowercase();
            json!({"ok": true, "user": {"id": user, "name": name, "real_name": name,
                "tz": "Europe/Berlin", "is_admin": user == ADMIN, "is_owner": false,
                "profile": {"display_name": name}}})
        }
        "views.open" => json!({"ok": true, "view": {"id": format!("V{n}")}}),
        _ => json!({"ok": true}),
    };
    axum::Json(body).into_response()
}

/// Admits a call under Slack's limits, or says how long until it would be admitted.
fn admit(inner: &mut Inner, method: &str, channel: &str, now: Instant) -> Result<(), Duration> {
    match limit_of(method) {
        Limit::Unlimited => Ok(()),
        Limit::PerMinute(limit) => {
            let window = inner.windows.entry(method.to_string()).or_default();
            while window.front().is_some_and(|t| now - *t >= MINUTE) {
                window.pop_front();
            }
            if window.len() >= limit {
                return Err(MINUTE - (now - window[window.len() - limit]));
            }
            window.push_back(now);
            Ok(())
        }
        Limit::PerChannel => {
            if let Some(last) = inner.last_post.get(channel)
                && now - *last < SECOND
            {
                return Err(SECOND - (now - *last));
            }
            inner.last_post.insert(channel.to_string(), now);
            Ok(())
        }
    }
}

/// The method stats as `name ok/429` lines, for the report.
pub fn describe(counts: &BTreeMap<String, Counts>) -> String {
    counts
        .iter()
        .map(|(m, c)| format!("{m} {} ok / {} 429", c.ok, c.limited))
        .collect::<Vec<_>>()
        .join(", ")
}

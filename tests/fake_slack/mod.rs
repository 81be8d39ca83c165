//! A stateful fake of Slack for integration tests, on loopback: the Web API under
//! `/api/{method}` (every call recorded, checked against Slack's OpenAPI description, rate
//! limited per tier, failures on demand), the external upload URL, `response_url`s, and the
//! Socket Mode websocket. Tests point `SLACK_API_URL` at [`FakeSlack::api_url`].
#![allow(dead_code, unused_imports)]

mod api;
mod blocks;
mod files;
mod hooks;
mod limits;
mod methods;
mod records;
mod sign;
mod socket;
mod spec;
mod views;

pub use files::SharedFile;
pub use records::{Button, Call, Posted};
pub use sign::{
    block_actions_payload, event_callback, interaction_form, sign, signature_headers,
    slash_command_form, view_submission_payload,
};

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::routing::{any, get, post};
use serde_json::Value;

/// The bot token of the default workspace.
pub const BOT_TOKEN: &str = "xoxb-fake-token";
/// The app-level token that opens Socket Mode connections.
pub const APP_TOKEN: &str = "xapp-fake-token";
/// The default workspace, the one [`BOT_TOKEN`] belongs to.
pub const TEAM_ID: &str = "T1";
pub const APP_ID: &str = "A1";

/// A workspace the fake knows, by bot token.
#[derive(Debug, Clone)]
struct Team {
    id: String,
    name: String,
    bot_user_id: String,
    bot_id: String,
}

impl Team {
    fn new(id: &str) -> Team {
        Team {
            id: id.into(),
            name: format!("Fake workspace {id}"),
            bot_user_id: format!("UBOT{id}"),
            bot_id: format!("BBOT{id}"),
        }
    }
}

struct User {
    name: String,
    tz: String,
    is_admin: bool,
}

struct Grant {
    team_id: String,
    bot_token: String,
    used: bool,
}

/// Everything the fake remembers; locked briefly by each request, never across an await.
struct State {
    calls: Vec<Call>,
    posted: Vec<Posted>,
    /// Current version of every non-ephemeral message, by (channel, ts).
    messages: HashMap<(String, String), Posted>,
    violations: Vec<String>,
    users: HashMap<String, User>,
    teams: HashMap<String, Team>,
    codes: HashMap<String, Grant>,
    oauth_client: Option<(String, String)>,
    fail_next: HashMap<String, VecDeque<String>>,
    fail_always: HashMap<String, String>,
    revoked: bool,
    forced_429: usize,
    forced_retry_after: u64,
    limiter: limits::Limiter,
    removed_channels: HashSet<String>,
    opened: HashSet<String>,
    files: Vec<files::Slot>,
    views: Vec<(String, Value)>,
    triggers: HashMap<String, Instant>,
    response_urls: HashMap<u64, usize>,
    responses: Vec<(String, Value)>,
    tickets: HashSet<u64>,
    seq: u64,
    ts: u64,
}

impl State {
    fn new() -> State {
        State {
            calls: Vec::new(),
            posted: Vec::new(),
            messages: HashMap::new(),
            violations: Vec::new(),
            users: HashMap::new(),
            teams: HashMap::from([(BOT_TOKEN.to_string(), Team::new(TEAM_ID))]),
            codes: HashMap::new(),
            oauth_client: None,
            fail_next: HashMap::new(),
            fail_always: HashMap::new(),
            revoked: false,
            forced_429: 0,
            forced_retry_after: 1,
            limiter: limits::Limiter::default(),
            removed_channels: HashSet::new(),
            opened: HashSet::new(),
            files: Vec::new(),
            views: Vec::new(),
            triggers: HashMap::new(),
            response_urls: HashMap::new(),
            responses: Vec::new(),
            tickets: HashSet::new(),
            seq: 0,
            ts: 1_700_000_000_000_100,
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Message timestamps, strictly increasing: `1700000000.000100`, `1700000000.000200`, …
    fn next_ts(&mut self) -> String {
        let ts = self.ts;
        self.ts += 100;
        format!("{}.{:06}", ts / 1_000_000, ts % 1_000_000)
    }

    fn record_post(&mut self, posted: Posted) {
        if posted.method != "chat.postEphemeral" {
            let key = (posted.channel.clone(), posted.ts.clone());
            self.messages.insert(key, posted.clone());
        }
        self.posted.push(posted);
    }
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<State>,
    hub: socket::Hub,
}

/// A handle on a running fake; clones share the same server and state.
#[derive(Clone)]
pub struct FakeSlack {
    inner: Arc<Inner>,
}

impl FakeSlack {
    /// Starts the fake on 127.0.0.1 with a free port; it runs until the test's runtime ends.
    pub async fn start() -> FakeSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Slack binds a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let fake = FakeSlack {
            inner: Arc::new(Inner {
                addr,
                state: Mutex::new(State::new()),
                hub: socket::Hub::default(),
            }),
        };
        let app = Router::new()
            .route("/api/{method}", any(api::handle))
            .route("/upload/{file_id}", post(files::upload))
            .route("/response/{id}", post(hooks::respond))
            .route("/socket", get(socket::connect))
            .with_state(fake.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Slack serves");
        });
        fake
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `http://127.0.0.1:PORT`, the origin of every URL the fake hands out.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The value for `SLACK_API_URL`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.base_url())
    }

    pub fn bot_token(&self) -> &str {
        BOT_TOKEN
    }

    pub fn app_token(&self) -> &str {
        APP_TOKEN
    }

    pub fn team_id(&self) -> &str {
        TEAM_ID
    }

    /// The bot's own user id in the default workspace.
    pub fn bot_user_id(&self) -> String {
        Team::new(TEAM_ID).bot_user_id
    }

    /// A member `users.info` knows.
    pub fn add_user(&self, id: &str, name: &str, tz: &str, is_admin: bool) {
        let user = User {
            name: name.into(),
            tz: tz.into(),
            is_admin,
        };
        self.state().users.insert(id.into(), user);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        let state = self.state();
        state
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Every successful `chat.postMessage`, `chat.postEphemeral` and `chat.update`, in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.state().posted.clone()
    }

    /// The current version of a message (after any `chat.update`).
    pub fn message(&self, channel: &str, ts: &str) -> Option<Posted> {
        let key = (channel.to_string(), ts.to_string());
        self.state().messages.get(&key).cloned()
    }

    /// The id `conversations.open(users=user)` answers: `D` + the user id.
    pub fn dm_channel(&self, user: &str) -> String {
        format!("D{user}")
    }

    /// The next call to `method` answers `{"ok":false,"error":error}` (queued, one per call).
    pub fn fail_next(&self, method: &str, error: &str) {
        let mut state = self.state();
        let queue = state.fail_next.entry(method.into()).or_default();
        queue.push_back(error.into());
    }

    pub fn fail_always(&self, method: &str, error: &str) {
        self.state().fail_always.insert(method.into(), error.into());
    }

    pub fn clear_failures(&self) {
        let mut state = self.state();
        state.fail_next.clear();
        state.fail_always.clear();
    }

    /// From now on every call that carries a token answers `token_revoked`.
    pub fn revoke_token(&self) {
        self.state().revoked = true;
    }

    /// The next `n` calls, whatever the method, answer HTTP 429 with `Retry-After`.
    pub fn rate_limit_first(&self, n: usize, retry_after_secs: u64) {
        let mut state = self.state();
        state.forced_429 = n;
        state.forced_retry_after = retry_after_secs;
    }

    /// Tier limits and the per-channel `chat.postMessage` limit; on by default.
    pub fn enforce_tiers(&self, on: bool) {
        self.state().limiter.on = on;
    }

    /// Changes a tier's calls per minute (defaults: 1, 20, 50, 100 for tiers 1 to 4).
    pub fn set_tier_limit(&self, tier: u8, per_minute: usize) {
        self.state().limiter.per_minute[usize::from(tier)] = per_minute;
    }

    /// Changes `chat.postMessage`'s limit per channel (default 1 per second, burst of 3).
    pub fn set_channel_post_limit(&self, per_second: f64, burst: u32) {
        let mut state = self.state();
        state.limiter.post_rate = per_second;
        state.limiter.post_burst = f64::from(burst);
    }

    /// Caps `chat.postMessage` per workspace across channels (Slack's unpublished limit of
    /// several hundred a minute); off by default.
    pub fn set_workspace_post_limit(&self, per_minute: Option<usize>) {
        self.state().limiter.post_per_minute = per_minute;
    }

    /// Every way a call did not match Slack's API description; tests assert this is empty.
    pub fn spec_violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// Posts, updates and uploads to `id` answer `channel_not_found` from now on.
    pub fn remove_channel(&self, id: &str) {
        self.state().removed_channels.insert(id.into());
    }

    /// `oauth.v2.access(code)` will install the app in `team_id` with `bot_token` (once).
    pub fn oauth_code(&self, code: &str, team_id: &str, bot_token: &str) {
        let grant = Grant {
            team_id: team_id.into(),
            bot_token: bot_token.into(),
            used: false,
        };
        self.state().codes.insert(code.into(), grant);
    }

    /// Makes `oauth.v2.access` insist on these credentials (by default any non-empty pair).
    pub fn set_oauth_client(&self, client_id: &str, client_secret: &str) {
        self.state().oauth_client = Some((client_id.into(), client_secret.into()));
    }

    /// Modals opened with `views.open`: (trigger_id, view as sent).
    pub fn views_opened(&self) -> Vec<(String, Value)> {
        self.state().views.clone()
    }
}

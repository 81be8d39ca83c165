//! Slack's rate limits, per workspace (bot token): method tiers over a sliding minute, and
//! `chat.postMessage` at 1 per second per channel with a small burst (and, if a test asks,
//! a cap per workspace).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

enum Limit {
    Unlimited,
    Tier(usize),
    PerChannel,
}

/// Tiers from each method's page on docs.slack.dev.
fn limit_for(method: &str) -> Limit {
    match method {
        "chat.postMessage" => Limit::PerChannel,
        "conversations.open" | "chat.update" | "chat.delete" | "conversations.info" => {
            Limit::Tier(3)
        }
        "users.info"
        | "views.open"
        | "views.update"
        | "views.push"
        | "chat.postEphemeral"
        | "files.getUploadURLExternal"
        | "files.completeUploadExternal"
        | "oauth.v2.access"
        | "auth.test" => Limit::Tier(4),
        // apps.connections.open is Tier 1 ("1+ per minute") with bursts Slack tolerates;
        // reconnect tests open several connections a minute, so the fake leaves it alone.
        _ => Limit::Unlimited,
    }
}

pub(super) struct Limiter {
    pub on: bool,
    /// Calls per minute, indexed by tier (index 0 unused).
    pub per_minute: [usize; 5],
    pub post_rate: f64,
    pub post_burst: f64,
    /// `chat.postMessage` across all channels of a workspace; off unless a test sets it.
    pub post_per_minute: Option<usize>,
    windows: HashMap<(String, String), VecDeque<Instant>>,
    buckets: HashMap<(String, String), (f64, Instant)>,
}

impl Default for Limiter {
    fn default() -> Limiter {
        Limiter {
            on: true,
            per_minute: [0, 1, 20, 50, 100],
            post_rate: 1.0,
            post_burst: 3.0,
            post_per_minute: None,
            windows: HashMap::new(),
            buckets: HashMap::new(),
        }
    }
}

impl Limiter {
    /// Admits a call or says how many seconds to wait (an integer, at least 1).
    pub fn check(
        &mut self,
        token: &str,
        method: &str,
        channel: Option<&str>,
        now: Instant,
    ) -> Result<(), u64> {
        if !self.on {
            return Ok(());
        }
        match limit_for(method) {
            Limit::Unlimited => Ok(()),
            Limit::Tier(tier) => {
                let limit = self.per_minute[tier];
                self.window(token, method, limit, now, true)
            }
            Limit::PerChannel => {
                if let Some(limit) = self.post_per_minute {
                    self.window(token, method, limit, now, false)?;
                }
                self.bucket(token, channel.unwrap_or_default(), now)?;
                if let Some(limit) = self.post_per_minute {
                    self.window(token, method, limit, now, true)?;
                }
                Ok(())
            }
        }
    }

    /// A sliding minute of at most `limit` calls; records the call only when `commit`.
    fn window(
        &mut self,
        token: &str,
        method: &str,
        limit: usize,
        now: Instant,
        commit: bool,
    ) -> Result<(), u64> {
        let key = (token.to_string(), method.to_string());
        let calls = self.windows.entry(key).or_default();
        while calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            calls.pop_front();
        }
        match calls.front() {
            Some(oldest) if calls.len() >= limit => Err(whole_seconds(
                WINDOW.saturating_sub(now.duration_since(*oldest)),
            )),
            _ => {
                if commit {
                    calls.push_back(now);
                }
                Ok(())
            }
        }
    }

    /// A token bucket per channel: `post_rate` a second, up to `post_burst` at once.
    fn bucket(&mut self, token: &str, channel: &str, now: Instant) -> Result<(), u64> {
        let key = (token.to_string(), channel.to_string());
        let (tokens, last) = self
            .buckets
            .get(&key)
            .copied()
            .unwrap_or((self.post_burst, now));
        let refilled = now.duration_since(last).as_secs_f64() * self.post_rate;
        let tokens = (tokens + refilled).min(self.post_burst);
        if tokens >= 1.0 {
            self.buckets.insert(key, (tokens - 1.0, now));
            Ok(())
        } else {
            self.buckets.insert(key, (tokens, now));
            let wait = (1.0 - tokens) / self.post_rate;
            Err(whole_seconds(Duration::from_secs_f64(wait)))
        }
    }
}

/// `Retry-After` is whole seconds; round up so that waiting that long always suffices.
fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

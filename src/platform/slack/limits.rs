//! Slack's rate limits, kept on our side so calls are spaced instead of refused: Tier 3
//! methods 50 per minute, Tier 4 100 per minute, `chat.postMessage` one per second per
//! channel, per workspace token. After a 429, the method waits out `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Our spacing runs slightly under Slack's published limits.
const HEADROOM: f64 = 0.98;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Not limited on our side (connection set-up; the caller backs off itself).
    Free,
    PerMinute(u32),
    /// One call per second per channel.
    PerChannel,
}

pub fn tier(method: &str) -> Tier {
    match method {
        "chat.postMessage" => Tier::PerChannel,
        "conversations.open" | "chat.update" => Tier::PerMinute(50),
        "chat.postEphemeral"
        | "users.info"
        | "views.open"
        | "files.getUploadURLExternal"
        | "files.completeUploadExternal"
        | "oauth.v2.access" => Tier::PerMinute(100),
        _ => Tier::Free,
    }
}

#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    next_free: Instant,
    blocked_until: Option<Instant>,
}

impl Limiter {
    /// Waits until a call of `method` (to `channel`) under `scope` (a workspace token) is
    /// allowed, reserving its slot.
    pub async fn acquire(&self, scope: &str, method: &str, channel: Option<&str>) {
        let at = self.reserve(scope, method, channel);
        tokio::time::sleep_until(at).await;
    }

    fn reserve(&self, scope: &str, method: &str, channel: Option<&str>) -> Instant {
        let now = Instant::now();
        let (key, interval) = match tier(method) {
            Tier::Free => return self.blocked(scope, method).unwrap_or(now).max(now),
            Tier::PerMinute(n) => (
                format!("{scope}/{method}"),
                Duration::from_secs_f64(60.0 / (n as f64 * HEADROOM)),
            ),
            Tier::PerChannel => (
                format!("{scope}/{method}/{}", channel.unwrap_or("")),
                Duration::from_secs_f64(1.0 / HEADROOM),
            ),
        };
        let blocked = self.blocked(scope, method);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(key).or_insert(Bucket {
            next_free: now,
            blocked_until: None,
        });
        let mut slot = bucket.next_free.max(now);
        if let Some(until) = blocked {
            slot = slot.max(until);
        }
        bucket.next_free = slot + interval;
        slot
    }

    fn blocked(&self, scope: &str, method: &str) -> Option<Instant> {
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets
            .get(&format!("{scope}/{method}/429"))
            .and_then(|b| b.blocked_until)
    }

    /// Records a 429: no call of `method` under `scope` before `retry_after` has passed.
    pub fn block(&self, scope: &str, method: &str, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry(format!("{scope}/{method}/429"))
            .or_insert(Bucket {
                next_free: until,
                blocked_until: None,
            });
        bucket.blocked_until = Some(bucket.blocked_until.map_or(until, |b| b.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tier_three_calls_are_spaced_to_fifty_a_minute() {
        let limiter = Limiter::default();
        let start = Instant::now();
        for _ in 0..51 {
            limiter.acquire("t", "conversations.open", None).await;
        }
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_secs(60), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(63), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn post_message_is_one_per_second_per_channel_but_channels_are_independent() {
        let limiter = Limiter::default();
        let start = Instant::now();
        for channel in ["C1", "C2", "C3"] {
            limiter
                .acquire("t", "chat.postMessage", Some(channel))
                .await;
        }
        assert!(start.elapsed() < Duration::from_millis(10));
        limiter.acquire("t", "chat.postMessage", Some("C1")).await;
        assert!(start.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_blocks_the_method_until_retry_after() {
        let limiter = Limiter::default();
        limiter.block("t", "chat.postMessage", Duration::from_secs(3));
        let start = Instant::now();
        limiter.acquire("t", "chat.postMessage", Some("C9")).await;
        assert!(start.elapsed() >= Duration::from_secs(3));
        limiter
            .acquire("other-workspace", "chat.postMessage", Some("C9"))
            .await;
        assert!(start.elapsed() < Duration::from_secs(4));
    }
}

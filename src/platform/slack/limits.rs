//! Slack's rate limits, kept on our side so calls are spaced instead of refused: Tier 3
//! methods 50 per minute, Tier 4 100 per minute, `chat.postMessage` one per second per
//! channel, per workspace token, each counted over a sliding window (a first burst is fine
//! as long as the window holds no more than 98 % of the limit; after it, calls are evenly
//! spaced). After a 429, the method waits out `Retry-After`.

use std::collections::{HashMap, VecDeque};
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
    windows: Mutex<HashMap<String, Window>>,
    blocked: Mutex<HashMap<String, Instant>>,
}

/// The slots reserved in the last `length`, oldest first: a sliding window like Slack's.
#[derive(Debug, Default)]
struct Window {
    slots: VecDeque<Instant>,
    /// Set once a burst has filled the window; from then on calls are evenly spaced, until
    /// the window has been idle for a while. Released together a window after the burst,
    /// waiting calls would reach Slack in a different order than the burst did, and some
    /// would land inside its window and be refused.
    spaced: bool,
}

impl Window {
    /// Reserves the earliest slot at or after `now` that keeps at most `limit` slots in any
    /// `length`; reserves nothing and returns `None` if that slot is after `latest`.
    fn reserve(
        &mut self,
        now: Instant,
        limit: usize,
        length: Duration,
        latest: Option<Instant>,
    ) -> Option<Instant> {
        let gap = length / limit as u32;
        if self
            .slots
            .back()
            .is_none_or(|last| *last + length + gap <= now)
        {
            self.spaced = false;
        }
        while self.slots.front().is_some_and(|s| *s + length <= now) {
            self.slots.pop_front();
        }
        let last = self.slots.back().copied();
        let mut slot = last.unwrap_or(now).max(now);
        if self.slots.len() >= limit {
            slot = slot.max(self.slots[self.slots.len() - limit] + length);
        }
        if self.spaced
            && let Some(last) = last
        {
            slot = slot.max(last + gap);
        }
        if latest.is_some_and(|latest| slot > latest) {
            return None;
        }
        self.slots.push_back(slot);
        if self.slots.len() >= limit {
            self.spaced = true;
        }
        Some(slot)
    }
}

impl Limiter {
    /// Waits until a call of `method` (to `channel`) under `scope` (a workspace token) is
    /// allowed, reserving its slot.
    pub async fn acquire(&self, scope: &str, method: &str, channel: Option<&str>) {
        let at = self.reserve(scope, method, channel, None);
        self.wait(scope, method, at.unwrap_or_else(Instant::now))
            .await;
    }

    /// Like [`Limiter::acquire`] for a call that is only worth making within `patience`:
    /// false, with nothing reserved, when its slot would come later.
    pub async fn acquire_within(
        &self,
        scope: &str,
        method: &str,
        channel: Option<&str>,
        patience: Duration,
    ) -> bool {
        let latest = Instant::now() + patience;
        match self.reserve(scope, method, channel, Some(latest)) {
            Some(at) => {
                self.wait(scope, method, at).await;
                true
            }
            None => false,
        }
    }

    async fn wait(&self, scope: &str, method: &str, at: Instant) {
        tokio::time::sleep_until(at).await;
        // A 429 that arrived while we waited pushes the call past its Retry-After too.
        while let Some(until) = self
            .blocked_until(scope, method)
            .filter(|u| *u > Instant::now())
        {
            tokio::time::sleep_until(until).await;
        }
    }

    fn blocked_until(&self, scope: &str, method: &str) -> Option<Instant> {
        self.blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&format!("{scope}/{method}"))
            .copied()
    }

    fn reserve(
        &self,
        scope: &str,
        method: &str,
        channel: Option<&str>,
        latest: Option<Instant>,
    ) -> Option<Instant> {
        let now = Instant::now();
        let earliest = self
            .blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&format!("{scope}/{method}"))
            .copied()
            .unwrap_or(now)
            .max(now);
        let (key, limit, length) = match tier(method) {
            Tier::Free => return Some(earliest),
            Tier::PerMinute(n) => (
                format!("{scope}/{method}"),
                ((n as f64 * HEADROOM).floor() as usize).max(1),
                Duration::from_secs(60),
            ),
            Tier::PerChannel => (
                format!("{scope}/{method}/{}", channel.unwrap_or("")),
                1,
                Duration::from_secs(1),
            ),
        };
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows
            .entry(key)
            .or_default()
            .reserve(earliest, limit, length, latest)
    }

    /// Records a 429: no call of `method` under `scope` before `retry_after` has passed.
    pub fn block(&self, scope: &str, method: &str, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let entry = blocked.entry(format!("{scope}/{method}")).or_insert(until);
        *entry = (*entry).max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tier_three_calls_burst_then_stay_under_fifty_a_minute() {
        let limiter = Limiter::default();
        let start = Instant::now();
        for _ in 0..49 {
            limiter.acquire("t", "conversations.open", None).await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(10),
            "a burst goes at once"
        );
        limiter.acquire("t", "conversations.open", None).await;
        assert!(start.elapsed() >= Duration::from_secs(60));
        let mut times = Vec::new();
        for _ in 0..200 {
            limiter.acquire("t", "conversations.open", None).await;
            times.push(Instant::now());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .filter(|u| **u < *t + Duration::from_secs(60))
                .count();
            assert!(in_window <= 49, "{in_window} calls within a minute");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_burst_tier_three_calls_are_evenly_spaced_not_released_together() {
        let limiter = Limiter::default();
        for _ in 0..49 {
            limiter.acquire("t", "conversations.open", None).await;
        }
        let mut times = Vec::new();
        for _ in 0..60 {
            limiter.acquire("t", "conversations.open", None).await;
            times.push(Instant::now());
        }
        let gap = Duration::from_secs(60) / 49;
        // The timer counts whole milliseconds.
        for pair in times.windows(2) {
            let apart = pair[1] - pair[0];
            assert!(apart + Duration::from_millis(1) >= gap, "{apart:?} apart");
            assert!(apart < gap + Duration::from_millis(5), "{apart:?} apart");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_cannot_wait_takes_no_slot_when_the_window_is_full() {
        let limiter = Limiter::default();
        for _ in 0..98 {
            assert!(
                limiter
                    .acquire_within("t", "users.info", None, Duration::from_secs(2))
                    .await
            );
        }
        let start = Instant::now();
        for _ in 0..1000 {
            assert!(
                !limiter
                    .acquire_within("t", "users.info", None, Duration::from_secs(2))
                    .await
            );
        }
        assert!(
            start.elapsed() < Duration::from_millis(10),
            "refused at once"
        );
        // The refusals reserved nothing: once the window has been idle, a whole burst goes.
        tokio::time::sleep(Duration::from_secs(62)).await;
        let start = Instant::now();
        for _ in 0..98 {
            limiter.acquire("t", "users.info", None).await;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
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

    #[tokio::test(start_paused = true)]
    async fn a_429_that_arrives_while_a_call_waits_for_its_slot_holds_that_call_too() {
        let limiter = std::sync::Arc::new(Limiter::default());
        limiter.acquire("t", "chat.postMessage", Some("C1")).await;
        let start = Instant::now();
        let waiting = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire("t", "chat.postMessage", Some("C1")).await })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        limiter.block("t", "chat.postMessage", Duration::from_secs(3));
        waiting.await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(3500),
            "{:?}",
            start.elapsed()
        );
    }
}

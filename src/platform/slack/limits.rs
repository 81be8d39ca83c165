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
    /// When the last call turned away (see [`Window::reserve`]) was told to come back. The
    /// next one turned away comes back one gap later, so that calls put off together return
    /// at the rate the window can take them, not all at once.
    put_off: Option<Instant>,
}

impl Window {
    /// Reserves the earliest slot at or after `now` that keeps at most `limit` slots in any
    /// `length`. If that slot is after `latest`, reserves nothing and says when to come back
    /// instead: no earlier than that slot, and one gap after the call turned away before.
    fn reserve(
        &mut self,
        now: Instant,
        limit: usize,
        length: Duration,
        latest: Option<Instant>,
    ) -> Result<Instant, Instant> {
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
            let back = self
                .put_off
                .filter(|at| *at > now)
                .map_or(slot, |at| (at + gap).max(slot));
            self.put_off = Some(back);
            return Err(back);
        }
        self.slots.push_back(slot);
        if self.slots.len() >= limit {
            self.spaced = true;
        }
        Ok(slot)
    }
}

impl Limiter {
    /// Waits until a call of `method` (to `channel`) under `scope` (a workspace token) is
    /// allowed, reserving its slot.
    pub async fn acquire(&self, scope: &str, method: &str, channel: Option<&str>) {
        let at = match self.reserve(scope, method, channel, None) {
            Ok(at) | Err(at) => at,
        };
        self.wait(scope, method, at).await;
    }

    /// Like [`Limiter::acquire`] for a call that is only worth making within `patience`.
    /// When its slot would come later, reserves nothing and returns how long to wait before
    /// asking again; calls turned away together are told to come back one by one, at the
    /// rate the limit allows.
    pub async fn acquire_within(
        &self,
        scope: &str,
        method: &str,
        channel: Option<&str>,
        patience: Duration,
    ) -> Result<(), Duration> {
        let now = Instant::now();
        match self.reserve(scope, method, channel, Some(now + patience)) {
            Ok(at) => {
                self.wait(scope, method, at).await;
                Ok(())
            }
            Err(back) => Err(back.saturating_duration_since(now)),
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
    ) -> Result<Instant, Instant> {
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
            Tier::Free if latest.is_some_and(|latest| earliest > latest) => return Err(earliest),
            Tier::Free => return Ok(earliest),
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
            let admitted = limiter
                .acquire_within("t", "users.info", None, Duration::from_secs(2))
                .await;
            assert_eq!(admitted, Ok(()));
        }
        let start = Instant::now();
        for _ in 0..1000 {
            let admitted = limiter
                .acquire_within("t", "users.info", None, Duration::from_secs(2))
                .await;
            assert!(admitted.is_err());
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
    async fn calls_turned_away_together_are_told_to_come_back_one_gap_apart() {
        let limiter = Limiter::default();
        for _ in 0..49 {
            limiter.acquire("t", "chat.update", None).await;
        }
        let patience = Duration::from_secs(5);
        let mut waits = Vec::new();
        for _ in 0..100 {
            let wait = limiter
                .acquire_within("t", "chat.update", None, patience)
                .await
                .expect_err("the window is full for a minute");
            waits.push(wait);
        }
        let gap = Duration::from_secs(60) / 49;
        assert!(waits[0] >= Duration::from_secs(59), "{:?}", waits[0]);
        for pair in waits.windows(2) {
            assert_eq!(pair[1] - pair[0], gap);
        }
        // Coming back when told, each finds its slot within its patience.
        tokio::time::sleep(waits[0]).await;
        assert_eq!(
            limiter
                .acquire_within("t", "chat.update", None, patience)
                .await,
            Ok(())
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

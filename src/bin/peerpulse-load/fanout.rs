//! The fan-out measurement: after `/pulse start`, how fast prompts reach the sink (which
//! enforces Slack's limits), against the rate Slack allows, and how many calls got 429.
//!
//! What bounds the rate: a first DM to a person needs `conversations.open` (Tier 3, 50 per
//! minute per workspace), so a cold fan-out can go no faster than 50 prompts a minute after
//! the first burst of 50. Once the DM channels are known (a warm fan-out, every round after
//! the first), only `chat.postMessage` at 1 per second *per channel* applies, and each
//! member's channel gets one prompt: Slack's published limits allow all of them at once, so
//! the figure is the bot's own delivery throughput.

use std::time::{Duration, Instant};

use crate::bot::Bot;
use crate::sink::{Counts, Seen, Sink, describe};

const TIER3_PER_MINUTE: f64 = 50.0;
const MINUTE: Duration = Duration::from_secs(60);

pub struct Report {
    pub expected: usize,
    pub seen: Seen,
    /// `/pulse start` sent.
    pub start: Instant,
    /// `/pulse start` acknowledged after.
    pub start_ack: Duration,
    pub timed_out: bool,
}

/// Waits until `expected` prompts reached the sink (or `timeout`), printing progress.
pub async fn watch(
    sink: &Sink,
    bot: &mut Bot,
    expected: usize,
    start: Instant,
    start_ack: Duration,
    timeout: Duration,
) -> Report {
    let mut last_print = Instant::now();
    let timed_out = loop {
        let (posted, limited) = sink.progress();
        if posted >= expected {
            break false;
        }
        if start.elapsed() > timeout || bot.exited() {
            break true;
        }
        if last_print.elapsed() >= Duration::from_secs(15) {
            eprintln!(
                "  {posted}/{expected} prompts after {:.0} s, {limited} calls answered 429",
                start.elapsed().as_secs_f64()
            );
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Report {
        expected,
        seen: sink.seen(),
        start,
        start_ack,
        timed_out,
    }
}

/// Calls per minute over the whole minutes since the first call (a sliding-window limit
/// lets a burst through at the start of each minute, so only whole minutes compare).
pub fn per_whole_minute(times: &[Instant]) -> Option<(f64, u64)> {
    let first = *times.iter().min()?;
    let last = *times.iter().max()?;
    let minutes = ((last - first).as_secs_f64() / 60.0).floor() as u64;
    if minutes == 0 {
        return None;
    }
    let end = first + MINUTE * minutes as u32;
    let calls = times.iter().filter(|t| **t < end).count();
    Some((calls as f64 / minutes as f64, minutes))
}

/// Accepted and refused calls in each minute since the first call of either kind.
fn by_minute(ok: &[Instant], refused: &[Instant]) -> Vec<(usize, usize)> {
    let Some(first) = ok.iter().chain(refused).min().copied() else {
        return Vec::new();
    };
    let minute = |t: &Instant| ((*t - first).as_secs() / 60) as usize;
    let last = ok.iter().chain(refused).map(minute).max().unwrap_or(0);
    let mut counts = vec![(0, 0); last + 1];
    ok.iter().for_each(|t| counts[minute(t)].0 += 1);
    refused.iter().for_each(|t| counts[minute(t)].1 += 1);
    counts
}

impl Report {
    /// Writes `kind,seconds since /pulse start` for every prompt and `conversations.open`.
    pub fn dump(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut lines = vec!["kind,seconds".to_string()];
        let rows = [
            ("open", &self.seen.opens),
            ("open-429", &self.seen.refused_opens),
            ("prompt", &self.seen.dm_posts),
        ];
        for (kind, times) in rows {
            for t in times.iter() {
                let at = t.saturating_duration_since(self.start).as_secs_f64();
                lines.push(format!("{kind},{at:.6}"));
            }
        }
        std::fs::write(path, lines.join("\n") + "\n")
    }

    pub fn delivered(&self) -> usize {
        self.seen.dm_posts.len()
    }

    /// `/pulse start` sent → last prompt at the sink.
    pub fn span(&self) -> Duration {
        self.seen
            .dm_posts
            .iter()
            .max()
            .map_or(Duration::ZERO, |last| *last - self.start)
    }

    pub fn prompts_per_second(&self) -> f64 {
        self.delivered() as f64 / self.span().as_secs_f64().max(1e-9)
    }

    pub fn limited_share(&self) -> (Counts, f64) {
        let total = self.seen.total();
        let share = total.limited as f64 / (total.ok + total.limited).max(1) as f64;
        (total, share)
    }

    pub fn print(&self, cold: bool) {
        let (total, share) = self.limited_share();
        let kind = if cold {
            "cold (no DM channel cached)"
        } else {
            "warm (DM channels cached)"
        };
        println!("fan-out, {kind}: {} members", self.expected);
        println!(
            "  /pulse start acknowledged in {:.2} s",
            self.start_ack.as_secs_f64()
        );
        println!(
            "  prompts at the sink: {}/{}{}",
            self.delivered(),
            self.expected,
            if self.timed_out { " (timed out)" } else { "" }
        );
        println!(
            "  last prompt {:.2} s after /pulse start: {:.1} prompts/s ({:.1}/min)",
            self.span().as_secs_f64(),
            self.prompts_per_second(),
            self.prompts_per_second() * 60.0
        );
        println!(
            "  calls answered 429: {} of {} ({:.2} %)",
            total.limited,
            total.ok + total.limited,
            share * 100.0
        );
        println!("  calls: {}", describe(&self.seen.counts));
        if cold {
            self.print_cold();
        } else {
            println!(
                "  allowed: chat.postMessage 1/s per channel, one prompt per channel: Slack's \
                 published limits allow all {} at once; the rate above is the bot's own",
                self.expected
            );
        }
    }

    fn print_cold(&self) {
        let opens = self.seen.method("conversations.open").ok;
        println!("  allowed: conversations.open, Tier 3, {TIER3_PER_MINUTE} per minute");
        let minutes: Vec<String> = by_minute(&self.seen.opens, &self.seen.refused_opens)
            .iter()
            .map(|(ok, refused)| format!("{ok}+{refused}"))
            .collect();
        println!(
            "  conversations.open per minute since the first (ok+429): {}",
            minutes.join(", ")
        );
        match per_whole_minute(&self.seen.opens) {
            Some((rate, minutes)) => println!(
                "  conversations.open over the first {minutes} whole minute(s): {rate:.1}/min = \
                 {:.1} % of the allowed rate",
                rate / TIER3_PER_MINUTE * 100.0
            ),
            None => println!("  fewer than a minute of conversations.open calls ({opens})"),
        }
        if let Some((rate, minutes)) = per_whole_minute(&self.seen.dm_posts) {
            println!(
                "  prompts over the first {minutes} whole minute(s): {rate:.1}/min = {:.1} % of \
                 the allowed rate",
                rate / TIER3_PER_MINUTE * 100.0
            );
        }
        let n = self.expected as f64;
        let fastest = ((n / TIER3_PER_MINUTE).ceil() - 1.0).max(0.0) * 60.0;
        println!(
            "  at the allowed rate {} prompts need at least {fastest:.0} s; a cold fan-out to \
             10,000 members at least {:.0} min",
            self.expected,
            ((10_000.0 / TIER3_PER_MINUTE).ceil() - 1.0)
        );
    }
}

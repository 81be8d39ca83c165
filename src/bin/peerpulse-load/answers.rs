//! The answer load: signed `block_actions` clicks from distinct members, sent open-loop at a
//! fixed rate (each request leaves at its scheduled time, whether or not earlier ones have
//! been answered), each acknowledgement's latency recorded.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::slack::{Ack, Slack};
use crate::stats::{Latencies, micros};

struct Sample {
    /// When the request left, and how late that was against its schedule.
    sent: Instant,
    lag: Duration,
    latency: Duration,
    ack: Ack,
}

pub struct Report {
    pub offered: usize,
    pub ok: usize,
    pub errors: BTreeMap<String, usize>,
    /// How long requests were being sent: first → last, plus one interval.
    pub sending: Duration,
    /// Last request sent → last acknowledgement received.
    pub drain: Duration,
    /// Between two requests.
    pub interval: Duration,
    /// Acknowledged answers per whole second of the run: the slowest and fastest second.
    pub slowest_second: usize,
    pub fastest_second: usize,
    pub latency: Latencies,
    pub lag: Latencies,
    pub max_in_flight: usize,
    /// Every request: when it was sent (since the start), its latency, and whether it was
    /// acknowledged.
    pub trace: Vec<(Duration, Duration, bool)>,
}

impl Report {
    /// Acknowledged answers per second of sending (or until the last acknowledgement, when
    /// the bot falls behind).
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.span().as_secs_f64().max(1e-9)
    }

    pub fn span(&self) -> Duration {
        let acked = (self.sending + self.drain).saturating_sub(self.interval);
        self.sending.max(acked)
    }

    pub fn error_count(&self) -> usize {
        self.errors.values().sum()
    }

    /// The `n` seconds of sending whose requests waited longest: (second, worst latency).
    pub fn worst_seconds(&self, n: usize) -> Vec<(u64, Duration)> {
        let mut worst: BTreeMap<u64, Duration> = BTreeMap::new();
        for (sent, latency, _) in &self.trace {
            let entry = worst.entry(sent.as_secs()).or_default();
            *entry = (*entry).max(*latency);
        }
        let mut worst: Vec<_> = worst.into_iter().collect();
        worst.sort_by_key(|(_, latency)| std::cmp::Reverse(*latency));
        worst.truncate(n);
        worst
    }

    /// Writes `sent_seconds,latency_ms,acknowledged` for every request.
    pub fn dump(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut out = String::from("sent_seconds,latency_ms,acknowledged\n");
        for (sent, latency, ok) in &self.trace {
            out.push_str(&format!(
                "{:.6},{:.3},{ok}\n",
                sent.as_secs_f64(),
                latency.as_secs_f64() * 1000.0
            ));
        }
        std::fs::write(path, out)
    }
}

/// Sends one answer per target (prompt id, member), `rate` per second, for at most
/// `duration`.
pub async fn run(
    slack: &Slack,
    targets: &[(i64, String)],
    rate: f64,
    duration: Duration,
) -> Report {
    let total = ((rate * duration.as_secs_f64()).round() as usize).min(targets.len());
    let (tx, mut rx) = mpsc::unbounded_channel::<Sample>();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut max_in_flight = 0;
    let start = Instant::now() + Duration::from_millis(20);
    let due = |i: usize| start + Duration::from_secs_f64(i as f64 / rate);
    let mut i = 0;
    while i < total {
        let now = Instant::now();
        while i < total && due(i) <= now {
            let (prompt, user) = targets[i].clone();
            let score = (i % 5) as u8 + 1;
            let (slack, tx, scheduled) = (slack.clone(), tx.clone(), due(i));
            let in_flight = in_flight.clone();
            let now_in_flight = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            max_in_flight = max_in_flight.max(now_in_flight);
            tokio::spawn(async move {
                let sent = Instant::now();
                let ack = slack.answer(&user, prompt, score).await;
                let latency = sent.elapsed();
                in_flight.fetch_sub(1, Ordering::Relaxed);
                let lag = sent.saturating_duration_since(scheduled);
                let _ = tx.send(Sample {
                    sent,
                    lag,
                    latency,
                    ack,
                });
            });
            i += 1;
        }
        if i < total {
            tokio::time::sleep_until(tokio::time::Instant::from_std(due(i))).await;
        }
    }
    drop(tx);

    let mut latencies = Vec::with_capacity(total);
    let mut lags = Vec::with_capacity(total);
    let mut errors = BTreeMap::new();
    let mut per_second: BTreeMap<u64, usize> = BTreeMap::new();
    let mut trace = Vec::with_capacity(total);
    let (mut first, mut last_sent, mut last_done) = (None::<Instant>, start, start);
    while let Some(sample) = rx.recv().await {
        let done = sample.sent + sample.latency;
        first = Some(first.map_or(sample.sent, |f| f.min(sample.sent)));
        last_sent = last_sent.max(sample.sent);
        last_done = last_done.max(done);
        lags.push(micros(sample.lag));
        let since = sample.sent.saturating_duration_since(start);
        trace.push((since, sample.latency, matches!(sample.ack, Ack::Ok)));
        match sample.ack {
            Ack::Ok => {
                latencies.push(micros(sample.latency));
                *per_second
                    .entry(done.saturating_duration_since(start).as_secs())
                    .or_default() += 1;
            }
            Ack::Status(status) => *errors.entry(format!("HTTP {status}")).or_default() += 1,
            Ack::Timeout => *errors.entry("no ack within 3 s".to_string()).or_default() += 1,
            Ack::Transport => *errors.entry("connection error".to_string()).or_default() += 1,
        }
    }
    let interval = Duration::from_secs_f64(1.0 / rate);
    let sending = first.map_or(Duration::ZERO, |f| {
        last_sent.saturating_duration_since(f) + interval
    });
    // Whole seconds only: the last one is partial.
    let full = duration.as_secs().min(sending.as_secs());
    let seconds: Vec<usize> = (0..full)
        .map(|s| per_second.get(&s).copied().unwrap_or(0))
        .collect();
    Report {
        offered: total,
        ok: latencies.len(),
        errors,
        sending,
        drain: last_done.saturating_duration_since(last_sent),
        interval,
        slowest_second: seconds.iter().copied().min().unwrap_or(0),
        fastest_second: seconds.iter().copied().max().unwrap_or(0),
        latency: Latencies::new(latencies),
        lag: Latencies::new(lags),
        max_in_flight,
        trace,
    }
}

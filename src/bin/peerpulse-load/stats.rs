//! Latency percentiles.

use std::time::Duration;

/// Latencies in microseconds, sorted once.
pub struct Latencies {
    sorted: Vec<u32>,
}

impl Latencies {
    pub fn new(mut micros: Vec<u32>) -> Latencies {
        micros.sort_unstable();
        Latencies { sorted: micros }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The `q`-quantile (0..=1), nearest rank.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * self.sorted.len() as f64).ceil() as usize).clamp(1, self.sorted.len());
        Duration::from_micros(u64::from(self.sorted[rank - 1]))
    }

    pub fn max(&self) -> Duration {
        Duration::from_micros(self.sorted.last().copied().map_or(0, u64::from))
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let l = Latencies::new((1..=100).rev().collect());
        assert_eq!(l.quantile(0.5), Duration::from_micros(50));
        assert_eq!(l.quantile(0.99), Duration::from_micros(99));
        assert_eq!(l.max(), Duration::from_micros(100));
        assert_eq!(Latencies::new(vec![]).quantile(0.5), Duration::ZERO);
    }
}

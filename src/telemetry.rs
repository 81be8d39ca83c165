//! Logging. Scores and notes are never logged next to anything that identifies a person, and
//! secrets are never logged at all.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: `RUST_LOG` if set, else `filter`; logs go to stderr.
pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Counters served on `/metrics` in the Prometheus text format.
#[derive(Default)]
pub struct Metrics {
    counters: std::sync::Mutex<std::collections::BTreeMap<(String, String), u64>>,
}

impl Metrics {
    /// Adds one to counter `name` with the label set `labels` (e.g. `route="/slack/commands"`).
    pub fn count(&self, name: &str, labels: &str) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        *counters
            .entry((name.to_string(), labels.to_string()))
            .or_insert(0) += 1;
    }

    pub fn render(&self) -> String {
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        let mut last = "";
        for ((name, labels), value) in counters.iter() {
            if name != last {
                out.push_str(&format!("# TYPE {name} counter\n"));
                last = name;
            }
            if labels.is_empty() {
                out.push_str(&format!("{name} {value}\n"));
            } else {
                out.push_str(&format!("{name}{{{labels}}} {value}\n"));
            }
        }
        out
    }
}

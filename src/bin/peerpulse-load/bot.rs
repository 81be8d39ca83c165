//! The bot under test: the real `peerpulse run` binary as a child process, with its own
//! SQLite file in a temporary directory, pointed at the sink; its memory read from
//! `/proc/<pid>/status`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::Rng;

/// Everything the child is started with; the same for a restart.
pub struct BotEnv {
    pub binary: PathBuf,
    pub dir: PathBuf,
    pub api_url: String,
    pub signing_secret: String,
    secret_key: String,
}

impl BotEnv {
    /// A fresh temporary directory and fresh secrets.
    pub fn new(binary: PathBuf, api_url: String) -> anyhow::Result<BotEnv> {
        let mut rng = rand::rng();
        let dir = std::env::temp_dir().join(format!(
            "peerpulse-load-{}-{:08x}",
            std::process::id(),
            rng.random::<u32>()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(BotEnv {
            binary,
            dir,
            api_url,
            signing_secret: hex::encode(rng.random::<[u8; 16]>()),
            secret_key: hex::encode(rng.random::<[u8; 32]>()),
        })
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("peerpulse.db")
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.db_path().display())
    }
}

pub struct Bot {
    child: Child,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Bot {
    /// Starts `peerpulse run` and waits until `/healthz` answers 200.
    pub async fn spawn(env: &BotEnv) -> anyhow::Result<Bot> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = File::options()
            .create(true)
            .append(true)
            .open(env.dir.join("bot.log"))?;
        let child = Command::new(&env.binary)
            .arg("run")
            // No config file in the temporary directory: built-in defaults.
            .current_dir(&env.dir)
            .env("SLACK_SIGNING_SECRET", &env.signing_secret)
            .env("SLACK_BOT_TOKEN", "xoxb-peerpulse-load")
            .env("SLACK_API_URL", &env.api_url)
            .env("PEERPULSE_DATABASE_URL", env.db_url())
            .env("PEERPULSE_BIND", format!("127.0.0.1:{port}"))
            .env("PEERPULSE_SECRET_KEY", &env.secret_key)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env_remove("SLACK_APP_TOKEN")
            .env_remove("PEERPULSE_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", env.binary.display()))?;
        let pid = child.id();
        let mut bot = Bot {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::builder().no_proxy().build()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = bot.child.try_wait()? {
                anyhow::bail!(
                    "the bot exited ({status}); see {}",
                    env.dir.join("bot.log").display()
                );
            }
            let health = http.get(format!("{}/healthz", bot.base)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return Ok(bot);
            }
            if Instant::now() > deadline {
                bot.kill().await;
                anyhow::bail!("the bot did not answer /healthz within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        if self.exited() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill().await;
    }

    pub async fn kill(&mut self) {
        let _ = self.child.kill();
        while matches!(self.child.try_wait(), Ok(None)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
pub fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples a process's memory every 100 ms until stopped.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max_rss: Arc<AtomicU64>,
    pid: u32,
}

/// Memory seen while sampling, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rss {
    /// The highest `VmRSS` sampled.
    pub max_rss: u64,
    /// `VmRSS` at the end.
    pub last_rss: u64,
    /// `VmHWM`: the peak over the process's whole life.
    pub hwm: u64,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max_rss = Arc::new(AtomicU64::new(0));
        let (until, max) = (stop.clone(), max_rss.clone());
        tokio::spawn(async move {
            while !until.load(Ordering::Relaxed) {
                if let Some((rss, _)) = memory(pid) {
                    max.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        RssSampler { stop, max_rss, pid }
    }

    pub fn finish(self) -> Rss {
        self.stop.store(true, Ordering::Relaxed);
        let (last_rss, hwm) = memory(self.pid).unwrap_or_default();
        Rss {
            max_rss: self.max_rss.load(Ordering::Relaxed).max(last_rss),
            last_rss,
            hwm,
        }
    }
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Removes the temporary directory unless asked to keep it.
pub fn clean_up(dir: &Path, keep: bool) {
    if keep {
        eprintln!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(dir);
    }
}

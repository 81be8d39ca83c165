//! `peerpulse run`: the HTTP endpoints, Slack Socket Mode, the scheduler and the delivery
//! worker, started together and stopped together (in-flight work finishes first).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::app::App;
use crate::clock::Clock;
use crate::config::Config;
use crate::http::{self, HttpState};
use crate::platform::slack::{Slack, SlackSettings, socket};
use crate::secrets::SecretKey;
use crate::telemetry::Metrics;
use crate::{outbox, scheduler, store};

/// How often the delivery worker looks for due messages.
const DELIVERY_POLL: Duration = Duration::from_millis(200);

pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    pub slack: Option<Arc<Slack>>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Running {
    /// Stops accepting work, lets in-flight requests and deliveries finish, and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        // The last connection closing folds the write-ahead log into the database file.
        self.app.db.close().await;
    }
}

/// The directory the generated secret key lives in: the SQLite file's, or the working one.
pub fn data_dir(database_url: &str) -> PathBuf {
    database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|path| path.split('?').next().unwrap_or(path))
        .map(PathBuf::from)
        .and_then(|path| path.parent().map(PathBuf::from))
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Starts the bot. Fails with a clear message when no platform is configured.
pub async fn start(
    config: Config,
    slack: SlackSettings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Running> {
    anyhow::ensure!(
        slack.enabled(),
        "no platform is configured. For Slack set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN \
         (Socket Mode), and SLACK_BOT_TOKEN or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET; see README.md. \
         To try peerpulse locally with no credentials, run: peerpulse chat"
    );
    let db = store::connect(&config.database.url).await?;
    let key = SecretKey::load(&data_dir(&config.database.url))?;
    let bind = config.http.bind.clone();
    let app = App::new(db.clone(), clock, Arc::new(config));
    if slack.bot_token.is_some() {
        // A single-workspace deployment restarted with a (new) token: deliver again.
        sqlx::query("UPDATE workspaces SET disabled_at = NULL WHERE platform = 'slack'")
            .execute(&db)
            .await?;
    }
    let slack = Arc::new(Slack::new(app.clone(), slack, key));
    let metrics = Arc::new(Metrics::default());
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("listening on {bind}"))?;
    let addr = listener.local_addr()?;
    let router = http::router(HttpState {
        db: db.clone(),
        slack: Some(slack.clone()),
        metrics,
    });
    let mut until = stopped.clone();
    tasks.spawn(async move {
        let shutdown = async move {
            let _ = until.wait_for(|s| *s).await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "HTTP server failed");
        }
    });

    let mut until = stopped.clone();
    let ticking = app.clone();
    tasks.spawn(scheduler::run(ticking, async move {
        let _ = until.wait_for(|s| *s).await;
    }));

    let mut until = stopped.clone();
    let delivering = app.clone();
    let chat = slack.chat();
    tasks.spawn(outbox::run(delivering, chat, DELIVERY_POLL, async move {
        let _ = until.wait_for(|s| *s).await;
    }));

    if let Some(app_token) = slack.settings.app_token.clone() {
        tasks.spawn(socket::run(slack.clone(), app_token, stopped.clone()));
    }
    tracing::info!(%addr, socket_mode = slack.settings.app_token.is_some(), "peerpulse is running");
    Ok(Running {
        addr,
        app,
        slack: Some(slack),
        stop,
        tasks,
    })
}

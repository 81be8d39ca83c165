//! The `peerpulse` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use clap::{Parser, Subcommand};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use peerpulse::config::Config;
use peerpulse::platform::console::{Flow, Session};
use std::sync::Arc;

use peerpulse::clock::SystemClock;
use peerpulse::platform::slack::{SlackSettings, manifest};
use peerpulse::{server, store, telemetry};

#[derive(Parser)]
#[command(
    name = "peerpulse",
    version,
    about = "Anonymous peer check-ins and burnout signals for Slack and Discord teams"
)]
struct Cli {
    /// Config file (default: $PEERPULSE_CONFIG, else config/peerpulse.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A local workspace in the terminal: the whole bot, no credentials.
    Chat {
        /// Read lines from FILE instead of the keyboard (`#` starts a comment).
        #[arg(long)]
        script: Option<PathBuf>,
        /// The workspace's SQLite file (default: console.db in the config, ./peerpulse-local.db).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Start the simulated clock at this UTC time, YYYY-MM-DDTHH:MM (default: now).
        #[arg(long, value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
    /// The bot: HTTP endpoints, platform connections, scheduler and delivery.
    Run,
    /// Apply database migrations and exit.
    Migrate,
    /// Slack helpers.
    Slack {
        #[command(subcommand)]
        command: SlackCommand,
    },
}

#[derive(Subcommand)]
enum SlackCommand {
    /// Print the Slack app manifest for this deployment.
    Manifest {
        /// The public base URL Slack reaches this deployment at, e.g. https://pulse.example.com
        #[arg(long, default_value = "https://peerpulse.example.com")]
        url: String,
        /// Use Socket Mode instead of public HTTP endpoints.
        #[arg(long)]
        socket_mode: bool,
    },
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .map(|t| t.and_utc())
        .map_err(|_| "expected YYYY-MM-DDTHH:MM (UTC), e.g. 2026-11-30T09:00".into())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("peerpulse: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Chat { script, db, now } => {
            telemetry::init("warn", config.log.json);
            chat(config, script, db, now).await
        }
        Command::Run => {
            telemetry::init(&config.log.filter, config.log.json);
            serve(config).await
        }
        Command::Slack {
            command: SlackCommand::Manifest { url, socket_mode },
        } => {
            let manifest = manifest::manifest(&url, socket_mode);
            use std::io::Write;
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                serde_json::to_string_pretty(&manifest)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            telemetry::init(&config.log.filter, config.log.json);
            store::connect(&config.database.url).await?;
            println!("migrations applied to {}", config.database.url);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn chat(
    config: Config,
    script: Option<PathBuf>,
    db: Option<PathBuf>,
    now: Option<DateTime<Utc>>,
) -> anyhow::Result<ExitCode> {
    let path = db.unwrap_or_else(|| config.console.db.clone());
    let url = format!("sqlite://{}", path.display());
    let start = now.unwrap_or_else(Utc::now);
    let mut session = Session::open(config, &url, start).await?;
    let mut out = tokio::io::stdout();
    let interactive = script.is_none();
    let lines: Box<dyn tokio::io::AsyncBufRead + Unpin> = match &script {
        Some(file) => {
            let file = tokio::fs::File::open(file)
                .await
                .with_context(|| format!("opening {}", file.display()))?;
            Box::new(BufReader::new(file))
        }
        None => Box::new(BufReader::new(tokio::io::stdin())),
    };
    let mut lines = lines.lines();
    if interactive {
        out.write_all(
            format!(
                "peerpulse local workspace ({}). Type /pulse help, /help for console verbs, /quit to leave.\n",
                path.display()
            )
            .as_bytes(),
        )
        .await?;
    }
    loop {
        if interactive {
            out.write_all(session.prompt().as_bytes()).await?;
            out.flush().await?;
        }
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let trimmed = line.trim();
        if !interactive && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if !interactive {
            out.write_all(format!("{}{trimmed}\n", session.prompt()).as_bytes())
                .await?;
        }
        let (flow, printed) = session.line(&line).await?;
        for l in printed {
            out.write_all(format!("{l}\n").as_bytes()).await?;
        }
        out.flush().await?;
        if flow == Flow::Quit {
            break;
        }
    }
    // Closing the last connection folds SQLite's write-ahead log into the database file, so
    // the file alone holds everything once the workspace is left.
    session.app().db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let slack = SlackSettings::from_env();
    if !slack.enabled() {
        eprintln!(
            "peerpulse: no platform is configured.\n\
             For Slack, set SLACK_SIGNING_SECRET (HTTP endpoints) or SLACK_APP_TOKEN (Socket Mode), \
             and SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET (OAuth installs).\n\
             To try peerpulse locally with no credentials, run: peerpulse chat"
        );
        return Ok(ExitCode::from(2));
    }
    let running = server::start(config, slack, Arc::new(SystemClock)).await?;
    eprintln!("peerpulse: listening on http://{}", running.addr);
    shutdown_signal().await;
    eprintln!("peerpulse: shutting down");
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

//! `peerpulse-load`: load figures for peerpulse on Slack, against the real bot binary.
//!
//! An in-process sink stands in for Slack's Web API; the bot (`peerpulse run`) runs as a
//! child process with its own SQLite file and is driven over signed HTTP, as Slack drives it.
//!
//! - Answers (default): a team of `--members` is set up with `/pulse setup`, `/pulse join`
//!   and `/pulse start`; then signed `block_actions` answers from distinct members go out at
//!   `--rate` per second for `--duration` seconds. Prints throughput, p50/p99/max
//!   acknowledgement latency, errors and the bot's memory.
//! - `--fanout N`: N members, `/pulse start`, and how fast the prompts reach the sink, which
//!   enforces Slack's rate limits: warm (DM channels cached) or `--cold`.

mod answers;
mod bot;
mod cpu;
mod fanout;
mod sink;
mod slack;
mod stats;
mod team;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use bot::{Bot, BotEnv, RssSampler, mib};
use sink::Sink;
use slack::Slack;
use stats::ms;
use team::Store;

const SLACK_ACK_DEADLINE: Duration = Duration::from_secs(3);

#[derive(Parser)]
#[command(name = "peerpulse-load", about = "Load figures for peerpulse on Slack")]
struct Args {
    /// The bot binary (default: `peerpulse` next to this tool).
    #[arg(long)]
    bot: Option<PathBuf>,
    /// Answers per second.
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    /// Seconds of answers.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Team size for the answer run (default: rate × duration, one answer each).
    #[arg(long)]
    members: Option<usize>,
    /// `/pulse join` requests in flight during set-up.
    #[arg(long, default_value_t = 1024)]
    join_concurrency: usize,
    /// Measure the fan-out of prompts to N members instead of answers.
    #[arg(long, value_name = "N")]
    fanout: Option<usize>,
    /// Fan-out with no DM channel cached (every prompt needs conversations.open).
    #[arg(long, requires = "fanout")]
    cold: bool,
    /// Give up on a fan-out after this many seconds (default: what the limits need + 2 min).
    #[arg(long)]
    timeout: Option<u64>,
    /// Write every answer's send time and latency (or, for a fan-out, the arrival time of
    /// every prompt and conversations.open) to FILE, as CSV.
    #[arg(long, value_name = "FILE")]
    dump: Option<PathBuf>,
    /// Keep the temporary directory (database, bot.log).
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let binary = args.bot.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("peerpulse")))
            .unwrap_or_else(|| PathBuf::from("target/release/peerpulse"))
    });
    let result = match args.fanout {
        Some(members) => run_fanout(&args, binary, members).await,
        None => run_answers(&args, binary).await,
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("peerpulse-load: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// A client for set-up requests: `/pulse start` for a big team takes a while.
fn setup_client(bot: &Bot, env: &BotEnv) -> anyhow::Result<Slack> {
    Slack::new(&bot.base, &env.signing_secret, Duration::from_secs(600))
}

async fn run_answers(args: &Args, binary: PathBuf) -> anyhow::Result<bool> {
    anyhow::ensure!(
        args.rate > 0.0 && args.duration > 0,
        "--rate and --duration must be positive"
    );
    let answers = (args.rate * args.duration as f64).round() as usize;
    let members = args.members.unwrap_or(answers + 1).max(2);
    let sink = Sink::start(false).await?;
    let env = BotEnv::new(binary, sink.api_url())?;
    let mut bot = Bot::spawn(&env).await?;
    eprintln!(
        "bot pid {} at {}; data in {}",
        bot.pid,
        bot.base,
        env.dir.display()
    );
    let outcome = answers_with(args, &env, &mut bot, &sink, members).await;
    bot.stop(Duration::from_secs(5)).await;
    bot::clean_up(&env.dir, args.keep || outcome.is_err());
    outcome
}

async fn answers_with(
    args: &Args,
    env: &BotEnv,
    bot: &mut Bot,
    sink: &Sink,
    members: usize,
) -> anyhow::Result<bool> {
    let setup = setup_client(bot, env)?;
    team::assemble(&setup, members, args.join_concurrency).await?;
    let start_ack = team::start_round(&setup).await?;
    let store = Store::open(&env.db_url()).await?;
    let targets = store.prompts().await?;
    eprintln!(
        "round started: {} prompts, /pulse start acknowledged in {:.2} s",
        targets.len(),
        start_ack.as_secs_f64()
    );
    let before = bot::memory(bot.pid).unwrap_or_default();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Slack gives up on an acknowledgement after 3 s and shows the member an error.
    let slack = Slack::new(&bot.base, &env.signing_secret, SLACK_ACK_DEADLINE)?;
    let sampler = RssSampler::start(bot.pid);
    let cpu_before = cpu::snapshot(bot.pid);
    let duration = Duration::from_secs(args.duration);
    let report = answers::run(&slack, &targets, args.rate, duration).await;
    let cpu_used = cpu_before
        .zip(cpu::snapshot(bot.pid))
        .map(|(a, b)| cpu::between(a, b));
    let rss = sampler.finish();
    let stored = store.count("answers").await?;
    let pending = store.count("pending").await?;
    store.close().await;

    let l = &report.latency;
    println!(
        "answers: {} offered at {} /s over {} s, {} members in the team",
        report.offered, args.rate, args.duration, members
    );
    println!(
        "  acknowledged: {} ({} errors{}), {} answers stored",
        report.ok,
        report.error_count(),
        if report.errors.is_empty() {
            String::new()
        } else {
            format!(": {:?}", report.errors)
        },
        stored
    );
    println!(
        "  throughput: {:.1} answers/s over {:.2} s; slowest whole second {}, fastest {}; \
         last ack {} after the last send",
        report.throughput(),
        report.span().as_secs_f64(),
        report.slowest_second,
        report.fastest_second,
        ms(report.drain)
    );
    println!(
        "  ack latency: p50 {}, p90 {}, p99 {}, p99.9 {}, max {} ({} samples)",
        ms(l.quantile(0.5)),
        ms(l.quantile(0.9)),
        ms(l.quantile(0.99)),
        ms(l.quantile(0.999)),
        ms(l.max()),
        l.len()
    );
    let worst: Vec<String> = report
        .worst_seconds(3)
        .iter()
        .map(|(second, latency)| format!("{} in second {second}", ms(*latency)))
        .collect();
    println!("  slowest acknowledgements: {}", worst.join(", "));
    if let Some(path) = &args.dump {
        report.dump(path)?;
    }
    println!(
        "  sender lag behind schedule: p99 {}, max {}; at most {} requests in flight",
        ms(report.lag.quantile(0.99)),
        ms(report.lag.max()),
        report.max_in_flight
    );
    println!(
        "  bot memory: VmRSS {:.1} MiB before, max {:.1} MiB during, {:.1} MiB after; \
         VmHWM {:.1} MiB (whole life, set-up included)",
        mib(before.0),
        mib(rss.max_rss),
        mib(rss.last_rss),
        mib(rss.hwm)
    );
    if let Some(used) = cpu_used {
        println!("  CPU during the run: {used}");
    }
    println!(
        "  outbox after the run: {pending} messages waiting (chat.update is 50/min, \
         chat.postEphemeral 100/min); sink calls: {}",
        sink::describe(&sink.seen().counts)
    );
    let met = report.error_count() == 0
        && report.ok == report.offered
        && report.throughput() >= args.rate * 0.99
        && l.quantile(0.99) < Duration::from_millis(50)
        && rss.max_rss < 100 * 1024;
    println!(
        "  targets (>= {} answers/s, no errors, p99 < 50 ms, RSS < 100 MiB): {}",
        args.rate,
        if met { "met" } else { "MISSED" }
    );
    Ok(met)
}

async fn run_fanout(args: &Args, binary: PathBuf, members: usize) -> anyhow::Result<bool> {
    let members = members.max(2);
    let sink = Sink::start(true).await?;
    let env = BotEnv::new(binary, sink.api_url())?;
    let mut bot = Bot::spawn(&env).await?;
    eprintln!(
        "bot pid {} at {}; data in {}",
        bot.pid,
        bot.base,
        env.dir.display()
    );
    let outcome = fanout_with(args, &env, &mut bot, &sink, members).await;
    bot.stop(Duration::from_secs(5)).await;
    bot::clean_up(&env.dir, args.keep || outcome.is_err());
    outcome
}

async fn fanout_with(
    args: &Args,
    env: &BotEnv,
    bot: &mut Bot,
    sink: &Sink,
    members: usize,
) -> anyhow::Result<bool> {
    team::assemble(&setup_client(bot, env)?, members, args.join_concurrency).await?;
    // Join confirmations are ephemeral messages at 100/min: thousands of them would hold the
    // delivery worker for an hour. They are not part of the fan-out, so the bot is stopped,
    // they are dropped, and the bot starts again on the same database.
    bot.stop(Duration::from_secs(3)).await;
    let store = Store::open(&env.db_url()).await?;
    let dropped = store.drop_pending_messages().await?;
    let warmed = if args.cold {
        0
    } else {
        store.warm_dm_channels().await?
    };
    store.close().await;
    eprintln!("dropped {dropped} undelivered set-up messages; cached {warmed} DM channels");
    *bot = Bot::spawn(env).await?;
    eprintln!("bot restarted: pid {}", bot.pid);
    let setup = setup_client(bot, env)?;
    sink.reset();
    let sampler = RssSampler::start(bot.pid);
    let cpu_before = cpu::snapshot(bot.pid);
    let start = Instant::now();
    let start_ack = team::start_round(&setup).await?;
    let timeout = Duration::from_secs(args.timeout.unwrap_or(if args.cold {
        (members as u64 / 49 + 1) * 60 + 120
    } else {
        300
    }));
    let report = fanout::watch(sink, bot, members, start, start_ack, timeout).await;
    let cpu_used = cpu_before
        .zip(cpu::snapshot(bot.pid))
        .map(|(a, b)| cpu::between(a, b));
    let rss = sampler.finish();
    report.print(args.cold);
    if let Some(used) = cpu_used {
        println!("  CPU during the fan-out: {used}");
    }
    if let Some(path) = &args.dump {
        report.dump(path)?;
    }
    println!(
        "  bot memory: VmRSS max {:.1} MiB during the fan-out, VmHWM {:.1} MiB",
        mib(rss.max_rss),
        mib(rss.hwm)
    );
    let (_, share) = report.limited_share();
    let met = if args.cold {
        let rate = fanout::per_whole_minute(&report.seen.opens).map_or(0.0, |(r, _)| r);
        rate >= 0.95 * 50.0 && share < 0.01 && !report.timed_out
    } else {
        share < 0.01 && !report.timed_out
    };
    println!(
        "  targets ({}< 1 % of calls answered 429): {}",
        if args.cold {
            ">= 95 % of 50 conversations.open/min, "
        } else {
            ""
        },
        if met { "met" } else { "MISSED" }
    );
    Ok(met)
}

//! Setting up a team over signed HTTP (`/pulse setup`, `/pulse join` from many members,
//! `/pulse start`), and what the load tool reads from or writes to the bot's SQLite file.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::sink::ADMIN;
use crate::slack::{Slack, member_id};

/// `/pulse setup` by the admin, then `/pulse join` from `members - 1` others, `concurrency`
/// in flight (the admin is a member too).
pub async fn assemble(slack: &Slack, members: usize, concurrency: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    slack.command(ADMIN, "setup tz=Europe/Berlin").await?;
    let done = Arc::new(AtomicUsize::new(0));
    let progress = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut last = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(15)).await;
                let now = done.load(Ordering::Relaxed);
                if now != last {
                    eprintln!("  {now} joined ({:.0} s)", started.elapsed().as_secs_f64());
                    last = now;
                }
            }
        })
    };
    let results: Vec<anyhow::Result<()>> = futures_util::stream::iter(1..members)
        .map(|i| {
            let (slack, done) = (slack.clone(), done.clone());
            async move {
                let result = slack.command(&member_id(i), "join").await;
                done.fetch_add(1, Ordering::Relaxed);
                result
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    progress.abort();
    let failed: Vec<_> = results.into_iter().filter_map(Result::err).collect();
    if let Some(first) = failed.first() {
        anyhow::bail!(
            "{} of {} joins failed, e.g. {first:#}",
            failed.len(),
            members - 1
        );
    }
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "setup: 1 admin + {} joins in {took:.1} s ({:.0} joins/s)",
        members - 1,
        (members - 1) as f64 / took
    );
    Ok(())
}

/// `/pulse start` by the admin: opens the round and prompts every member.
pub async fn start_round(slack: &Slack) -> anyhow::Result<Duration> {
    let started = Instant::now();
    slack.command(ADMIN, "start").await?;
    Ok(started.elapsed())
}

/// The bot's SQLite file, opened alongside the bot (WAL; writers wait for each other).
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        let options = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Store { pool })
    }

    /// Every prompt with the Slack user id of the member it was sent to.
    pub async fn prompts(&self) -> anyhow::Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT p.id, u.external_id FROM prompts p JOIN members m ON m.id = p.member_id
             JOIN users u ON u.id = m.user_id ORDER BY p.id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Caches a DM channel for every person, as earlier rounds would have: a warm fan-out
    /// needs no `conversations.open`. Channel ids match what the sink hands out.
    pub async fn warm_dm_channels(&self) -> anyhow::Result<u64> {
        Ok(sqlx::query(
            "INSERT INTO dm_channels (user_id, channel) SELECT id, 'D' || external_id FROM users
             WHERE true ON CONFLICT (user_id) DO NOTHING",
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Drops undelivered messages (the join confirmations of a mass set-up), so that what
    /// the fan-out measures is the prompts alone.
    pub async fn drop_pending_messages(&self) -> anyhow::Result<u64> {
        Ok(
            sqlx::query("DELETE FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    pub async fn count(&self, table: &str) -> anyhow::Result<i64> {
        let sql = match table {
            "answers" => "SELECT COUNT(*) FROM answers",
            "participations" => "SELECT COUNT(*) FROM participations",
            "pending" => "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
            other => anyhow::bail!("no count for {other}"),
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

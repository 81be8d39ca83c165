//! The database: connection, migrations, and one file of named queries per table group.
//! SQL is written to run on SQLite and PostgreSQL alike: `$n` parameters, `ON CONFLICT`,
//! `RETURNING`, times as epoch seconds.

pub mod asks;
pub mod console;
pub mod members;
pub mod outbox;
pub mod rounds;
pub mod slack;
pub mod summaries;
pub mod teams;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub type Db = sqlx::SqlitePool;

/// Rows per multi-row statement (7 binds each stays far below SQLite's variable limit).
pub const BATCH_ROWS: usize = 500;
pub type Conn = sqlx::SqliteConnection;
pub type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Opens (creating if missing) the database at `url` and applies pending migrations.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let db = open(url).await?;
    migrate(&db).await?;
    Ok(db)
}

/// Opens the database without migrating it.
pub async fn open(url: &str) -> anyhow::Result<Db> {
    if !url.starts_with("sqlite:") {
        anyhow::bail!(
            "database url `{}` is not supported yet: use sqlite://PATH",
            url.split('@').next_back().unwrap_or("")
        );
    }
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("reading database url {url}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Savepoint journals stay in memory instead of temporary files.
        .pragma("temp_store", "MEMORY")
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("opening database {url}"))
}

pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    MIGRATOR.run(db).await.context("applying migrations")?;
    Ok(())
}

/// Begins a write transaction. SQLite takes the write lock up front so that two processes
/// sharing a file queue up instead of failing on lock upgrade.
pub async fn begin(db: &Db) -> sqlx::Result<Tx> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// Whether the database answers (for `/healthz`).
pub async fn ping(db: &Db) -> bool {
    sqlx::query("SELECT 1").execute(db).await.is_ok()
}

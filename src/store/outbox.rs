//! The outbox: every outgoing message, its delivery attempts and its fate.

use sqlx::FromRow;

use super::Conn;

/// A message to write in the same transaction as the change that caused it.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub dedupe_key: &'a str,
    pub workspace_id: i64,
    /// The person it is addressed to, if any (erased with them).
    pub user_id: Option<i64>,
    pub destination: &'a str,
    pub body: &'a str,
    pub now: i64,
    pub not_before: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct Pending {
    pub id: i64,
    pub workspace_id: i64,
    pub destination: String,
    pub body: Option<String>,
    pub attempts: i64,
}

/// Queues a message; false when one with the same dedupe key exists already.
pub async fn enqueue(conn: &mut Conn, m: &NewMessage<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO outbox (dedupe_key, workspace_id, user_id, destination, body, created_at,
             next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(m.dedupe_key)
    .bind(m.workspace_id)
    .bind(m.user_id)
    .bind(m.destination)
    .bind(m.body)
    .bind(m.now)
    .bind(m.not_before)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues many messages in a few statements; returns how many were new.
pub async fn enqueue_many(conn: &mut Conn, messages: &[NewMessage<'_>]) -> sqlx::Result<u64> {
    let mut queued = 0;
    for chunk in messages.chunks(super::BATCH_ROWS) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO outbox (dedupe_key, workspace_id, user_id, destination, body, created_at,
                 next_attempt_at) ",
        );
        insert.push_values(chunk, |mut row, m| {
            row.push_bind(m.dedupe_key)
                .push_bind(m.workspace_id)
                .push_bind(m.user_id)
                .push_bind(m.destination)
                .push_bind(m.body)
                .push_bind(m.now)
                .push_bind(m.not_before);
        });
        insert.push(" ON CONFLICT (dedupe_key) DO NOTHING");
        queued += insert
            .build()
            .persistent(false)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(queued)
}

/// Leases up to `limit` due messages for `lease` seconds, oldest first.
pub async fn claim_due(
    conn: &mut Conn,
    now: i64,
    lease: i64,
    limit: i64,
) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as(
        "UPDATE outbox SET claimed_until = $1
         WHERE id IN (SELECT id FROM outbox
                      WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2
                        AND (claimed_until IS NULL OR claimed_until <= $2)
                        AND workspace_id IN (SELECT id FROM workspaces WHERE disabled_at IS NULL)
                      ORDER BY next_attempt_at, id LIMIT $3)
         RETURNING id, workspace_id, destination, body, attempts",
    )
    .bind(now + lease)
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Marks a message delivered. A message to a person (`keep` false) is deleted instead, so
/// that nothing about it (address, text, dedupe key) outlives its delivery.
pub async fn mark_sent(conn: &mut Conn, id: i64, now: i64, keep: bool) -> sqlx::Result<()> {
    if !keep {
        return delete(conn, id).await;
    }
    sqlx::query(
        "UPDATE outbox SET sent_at = $1, claimed_until = NULL, attempts = attempts + 1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM outbox WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts leased messages off, each until its time (`(id, at)`), without counting an attempt
/// (nothing was sent).
pub async fn defer_many(conn: &mut Conn, rows: &[(i64, i64)]) -> sqlx::Result<()> {
    for chunk in rows.chunks(super::BATCH_ROWS) {
        let mut update =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("UPDATE outbox SET next_attempt_at = CASE id");
        for (id, at) in chunk {
            update
                .push(" WHEN ")
                .push_bind(*id)
                .push(" THEN ")
                .push_bind(*at);
        }
        update.push(" END, claimed_until = NULL WHERE id IN (");
        let mut ids = update.separated(", ");
        for (id, _) in chunk {
            ids.push_bind(*id);
        }
        update.push(")");
        update.build().persistent(false).execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn mark_retry(conn: &mut Conn, id: i64, at: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1, claimed_until = NULL, attempts = attempts + 1,
             last_error = $2
         WHERE id = $3",
    )
    .bind(at)
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives a leased message back without counting an attempt (its workspace was disabled).
pub async fn release(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET claimed_until = NULL WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives up on a message. A message to a person (`keep` false) is deleted; a channel post
/// stays with its error for the operator.
pub async fn mark_failed(
    conn: &mut Conn,
    id: i64,
    now: i64,
    error: &str,
    keep: bool,
) -> sqlx::Result<()> {
    if !keep {
        return delete(conn, id).await;
    }
    sqlx::query(
        "UPDATE outbox SET failed_at = $1, claimed_until = NULL, attempts = attempts + 1,
             last_error = $2
         WHERE id = $3",
    )
    .bind(now)
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The earliest pending attempt after `after`, for the console clock.
pub async fn next_attempt_after(conn: &mut Conn, after: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM outbox
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at > $1",
    )
    .bind(after)
    .fetch_one(conn)
    .await
}

/// Drops undelivered messages whose dedupe key starts with `prefix` (e.g. nudges of an ask
/// whose asker erased their data).
pub async fn drop_pending(conn: &mut Conn, prefix: &str) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM outbox WHERE sent_at IS NULL AND substr(dedupe_key, 1, length($1)) = $1",
    )
    .bind(prefix)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Messages waiting to be delivered, and channel posts given up on.
pub async fn counts(db: &super::Db) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0)
         FROM outbox",
    )
    .fetch_optional(db)
    .await
}

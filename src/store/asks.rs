//! Asks for help, the peers nudged about them, and the offers they got.

use sqlx::FromRow;

use super::Conn;

#[derive(Debug, Clone, FromRow)]
pub struct Ask {
    pub id: i64,
    pub team_id: i64,
    pub asker_member_id: Option<i64>,
    pub named: bool,
    pub created_at: i64,
    pub release_at: i64,
    pub released_at: Option<i64>,
    pub widen_at: i64,
    pub expires_at: i64,
    pub first_offer_at: Option<i64>,
    pub offers: i64,
    pub closed_at: Option<i64>,
}

const ASK: &str = "id, team_id, asker_member_id, named, created_at, release_at, released_at, \
     widen_at, expires_at, first_offer_at, offers, closed_at";

pub struct NewAsk {
    pub team_id: i64,
    pub asker_member_id: i64,
    pub named: bool,
    pub now: i64,
    pub release_at: i64,
    pub widen_at: i64,
    pub expires_at: i64,
}

pub async fn create(conn: &mut Conn, ask: &NewAsk) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO asks (team_id, asker_member_id, named, created_at, release_at, widen_at,
             expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(ask.team_id)
    .bind(ask.asker_member_id)
    .bind(ask.named)
    .bind(ask.now)
    .bind(ask.release_at)
    .bind(ask.widen_at)
    .bind(ask.expires_at)
    .fetch_one(conn)
    .await
}

pub async fn get(conn: &mut Conn, ask_id: i64) -> sqlx::Result<Option<Ask>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {ASK} FROM asks WHERE id = $1"));
    sqlx::query_as(sql).bind(ask_id).fetch_optional(conn).await
}

/// The member's open ask in a team, if any.
pub async fn open_by(conn: &mut Conn, member_id: i64) -> sqlx::Result<Option<Ask>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ASK} FROM asks WHERE asker_member_id = $1 AND closed_at IS NULL"
    ));
    sqlx::query_as(sql)
        .bind(member_id)
        .fetch_optional(conn)
        .await
}

/// Asks whose release (first nudge) is due.
pub async fn due_releases(conn: &mut Conn, now: i64) -> sqlx::Result<Vec<Ask>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ASK} FROM asks WHERE released_at IS NULL AND closed_at IS NULL
             AND release_at <= $1 ORDER BY id"
    ));
    sqlx::query_as(sql).bind(now).fetch_all(conn).await
}

/// Released asks with no offer whose one wider nudge is due.
pub async fn due_widens(conn: &mut Conn, now: i64) -> sqlx::Result<Vec<Ask>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ASK} FROM asks WHERE released_at IS NOT NULL AND widened_at IS NULL
             AND closed_at IS NULL AND offers = 0 AND widen_at <= $1 ORDER BY id"
    ));
    sqlx::query_as(sql).bind(now).fetch_all(conn).await
}

pub async fn due_expiries(conn: &mut Conn, now: i64) -> sqlx::Result<Vec<Ask>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ASK} FROM asks WHERE closed_at IS NULL AND expires_at <= $1 ORDER BY id"
    ));
    sqlx::query_as(sql).bind(now).fetch_all(conn).await
}

/// The earliest ask timer (release, wider nudge, expiry) after `after`.
pub async fn next_timer_after(conn: &mut Conn, after: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(t) FROM (
             SELECT release_at AS t FROM asks WHERE released_at IS NULL AND closed_at IS NULL
             UNION ALL
             SELECT widen_at FROM asks WHERE released_at IS NOT NULL AND widened_at IS NULL
                 AND closed_at IS NULL AND offers = 0
             UNION ALL
             SELECT expires_at FROM asks WHERE closed_at IS NULL
         ) timers WHERE t > $1",
    )
    .bind(after)
    .fetch_one(conn)
    .await
}

/// Claims a one-time step of an ask (`released_at`, `widened_at` or `closed_at`).
pub async fn claim(conn: &mut Conn, ask_id: i64, step: AskStep, now: i64) -> sqlx::Result<bool> {
    let sql = match step {
        AskStep::Release => {
            "UPDATE asks SET released_at = $1 WHERE id = $2 AND released_at IS NULL"
        }
        AskStep::Widen => "UPDATE asks SET widened_at = $1 WHERE id = $2 AND widened_at IS NULL",
        AskStep::Close => "UPDATE asks SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
    };
    let done = sqlx::query(sql)
        .bind(now)
        .bind(ask_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Copy)]
pub enum AskStep {
    Release,
    Widen,
    Close,
}

pub async fn record_nudge(conn: &mut Conn, ask_id: i64, member_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO nudges (ask_id, member_id) VALUES ($1, $2) ON CONFLICT (ask_id, member_id) DO NOTHING",
    )
    .bind(ask_id)
    .bind(member_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn nudged(conn: &mut Conn, ask_id: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT member_id FROM nudges WHERE ask_id = $1")
        .bind(ask_id)
        .fetch_all(conn)
        .await
}

/// Records an offer: true the first time this member offers on this ask.
pub async fn record_offer(
    conn: &mut Conn,
    ask_id: i64,
    member_id: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO offers (ask_id, member_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (ask_id, member_id) DO NOTHING",
    )
    .bind(ask_id)
    .bind(member_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE asks SET offers = offers + 1, first_offer_at = COALESCE(first_offer_at, $1)
         WHERE id = $2",
    )
    .bind(now)
    .bind(ask_id)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Asks a team made in `[from, to)`, for the summary.
pub async fn made_between(
    conn: &mut Conn,
    team_id: i64,
    from: i64,
    to: i64,
) -> sqlx::Result<Vec<Ask>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ASK} FROM asks WHERE team_id = $1 AND created_at >= $2 AND created_at < $3
         ORDER BY id"
    ));
    sqlx::query_as(sql)
        .bind(team_id)
        .bind(from)
        .bind(to)
        .fetch_all(conn)
        .await
}

/// Closes the member's open asks and unlinks every ask from them (for `forget-me`).
pub async fn unlink_asker(conn: &mut Conn, member_id: i64, now: i64) -> sqlx::Result<Vec<i64>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE asks SET closed_at = COALESCE(closed_at, $1), asker_member_id = NULL
         WHERE asker_member_id = $2 RETURNING id",
    )
    .bind(now)
    .bind(member_id)
    .fetch_all(conn)
    .await?;
    Ok(ids)
}

//! Rounds, the prompts sent in them, who answered (participations) and what was answered
//! (answers), kept apart so that no row links the two.

use std::collections::{HashMap, HashSet};

use rand::RngCore;
use sqlx::FromRow;

use super::Conn;

#[derive(Debug, Clone, FromRow)]
pub struct Round {
    pub id: i64,
    pub team_id: i64,
    pub week: String,
    pub opened_at: i64,
    pub closes_at: i64,
    pub closed_at: Option<i64>,
    pub prompted: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct Prompt {
    pub id: i64,
    pub round_id: i64,
    pub member_id: i64,
    pub sent_at: i64,
}

const ROUND: &str = "id, team_id, week, opened_at, closes_at, closed_at, prompted";

/// Opens the team's round for `week` unless it exists; returns it either way.
pub async fn get_or_open(
    conn: &mut Conn,
    team_id: i64,
    week: &str,
    now: i64,
    closes_at: i64,
) -> sqlx::Result<Round> {
    sqlx::query(
        "INSERT INTO rounds (team_id, week, opened_at, closes_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (team_id, week) DO NOTHING",
    )
    .bind(team_id)
    .bind(week)
    .bind(now)
    .bind(closes_at)
    .execute(&mut *conn)
    .await?;
    find_week(conn, team_id, week)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

pub async fn find_week(conn: &mut Conn, team_id: i64, week: &str) -> sqlx::Result<Option<Round>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ROUND} FROM rounds WHERE team_id = $1 AND week = $2"
    ));
    sqlx::query_as(sql)
        .bind(team_id)
        .bind(week)
        .fetch_optional(conn)
        .await
}

pub async fn get(conn: &mut Conn, round_id: i64) -> sqlx::Result<Option<Round>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {ROUND} FROM rounds WHERE id = $1"));
    sqlx::query_as(sql)
        .bind(round_id)
        .fetch_optional(conn)
        .await
}

/// The team's open round, if any.
pub async fn open_for_team(conn: &mut Conn, team_id: i64) -> sqlx::Result<Option<Round>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ROUND} FROM rounds WHERE team_id = $1 AND closed_at IS NULL
         ORDER BY opened_at DESC LIMIT 1"
    ));
    sqlx::query_as(sql).bind(team_id).fetch_optional(conn).await
}

/// Open rounds whose close time has come.
pub async fn due_to_close(conn: &mut Conn, now: i64) -> sqlx::Result<Vec<Round>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ROUND} FROM rounds WHERE closed_at IS NULL AND closes_at <= $1 ORDER BY id"
    ));
    sqlx::query_as(sql).bind(now).fetch_all(conn).await
}

/// Claims the close of a round: true for exactly one caller.
pub async fn claim_close(conn: &mut Conn, round_id: i64, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE rounds SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
        .bind(now)
        .bind(round_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims the prompt of a member in a round: the id for exactly one caller, `None` after.
/// The caller adds the claimed count with [`add_prompted`].
pub async fn claim_prompt(
    conn: &mut Conn,
    round_id: i64,
    member_id: i64,
    due_at: i64,
    now: i64,
    remind_at: i64,
) -> sqlx::Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO prompts (round_id, member_id, due_at, sent_at, remind_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (round_id, member_id) DO NOTHING RETURNING id",
    )
    .bind(round_id)
    .bind(member_id)
    .bind(due_at)
    .bind(now)
    .bind(remind_at)
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// Claims the prompts of many members at once (see [`claim_prompt`]); returns
/// `(prompt id, member id)` for those this caller claimed.
pub async fn claim_prompts(
    conn: &mut Conn,
    round_id: i64,
    member_ids: &[i64],
    due_at: i64,
    now: i64,
    remind_at: i64,
) -> sqlx::Result<Vec<(i64, i64)>> {
    let mut claimed = Vec::with_capacity(member_ids.len());
    for chunk in member_ids.chunks(super::BATCH_ROWS) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO prompts (round_id, member_id, due_at, sent_at, remind_at) ",
        );
        insert.push_values(chunk, |mut row, member| {
            row.push_bind(round_id)
                .push_bind(*member)
                .push_bind(due_at)
                .push_bind(now)
                .push_bind(remind_at);
        });
        insert.push(" ON CONFLICT (round_id, member_id) DO NOTHING RETURNING id, member_id");
        claimed.extend(
            insert
                .build_query_as::<(i64, i64)>()
                .persistent(false)
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(claimed)
}

/// Adds `n` claimed prompts to the round's member count.
pub async fn add_prompted(conn: &mut Conn, round_id: i64, n: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE rounds SET prompted = prompted + $1 WHERE id = $2")
        .bind(n)
        .bind(round_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get_prompt(conn: &mut Conn, prompt_id: i64) -> sqlx::Result<Option<Prompt>> {
    sqlx::query_as("SELECT id, round_id, member_id, sent_at FROM prompts WHERE id = $1")
        .bind(prompt_id)
        .fetch_optional(conn)
        .await
}

/// The member a prompt was sent to and the round it belongs to, in one query.
pub async fn prompted(
    conn: &mut Conn,
    prompt_id: i64,
) -> sqlx::Result<Option<(super::members::Member, Round)>> {
    Ok(prompted_many(conn, &[prompt_id]).await?.remove(&prompt_id))
}

/// [`prompted`] for many prompts at once, by prompt id (unknown ids are left out).
pub async fn prompted_many(
    conn: &mut Conn,
    prompt_ids: &[i64],
) -> sqlx::Result<HashMap<i64, (super::members::Member, Round)>> {
    let mut found = HashMap::with_capacity(prompt_ids.len());
    for chunk in prompt_ids.chunks(super::BATCH_ROWS) {
        let mut select = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT p.id AS prompt_id, m.id AS member_id, m.team_id, m.user_id, m.capacity,
                    m.streak, m.left_at,
                    r.id, r.week, r.opened_at, r.closes_at, r.closed_at, r.prompted
             FROM prompts p JOIN members m ON m.id = p.member_id JOIN rounds r ON r.id = p.round_id
             WHERE p.id IN (",
        );
        let mut ids = select.separated(", ");
        for id in chunk {
            ids.push_bind(*id);
        }
        select.push(")");
        let query = select.build_query_as::<PromptedRow>();
        // One prompt (a single click) is the common shape: keep it prepared.
        let rows = query
            .persistent(chunk.len() == 1)
            .fetch_all(&mut *conn)
            .await?;
        found.extend(rows.into_iter().map(|r| {
            let member = super::members::Member {
                id: r.member_id,
                team_id: r.team_id,
                user_id: r.user_id,
                capacity: r.capacity,
                streak: r.streak,
                left_at: r.left_at,
            };
            let round = Round {
                id: r.id,
                team_id: r.team_id,
                week: r.week,
                opened_at: r.opened_at,
                closes_at: r.closes_at,
                closed_at: r.closed_at,
                prompted: r.prompted,
            };
            (r.prompt_id, (member, round))
        }));
    }
    Ok(found)
}

#[derive(FromRow)]
struct PromptedRow {
    prompt_id: i64,
    member_id: i64,
    team_id: i64,
    user_id: i64,
    capacity: bool,
    streak: i64,
    left_at: Option<i64>,
    id: i64,
    week: String,
    opened_at: i64,
    closes_at: i64,
    closed_at: Option<i64>,
    prompted: i64,
}

pub async fn find_prompt(
    conn: &mut Conn,
    round_id: i64,
    member_id: i64,
) -> sqlx::Result<Option<Prompt>> {
    sqlx::query_as(
        "SELECT id, round_id, member_id, sent_at FROM prompts WHERE round_id = $1 AND member_id = $2",
    )
    .bind(round_id)
    .bind(member_id)
    .fetch_optional(conn)
    .await
}

/// Prompts whose reminder is due: round open, not answered, member active and unpaused.
pub async fn due_reminders(conn: &mut Conn, now: i64) -> sqlx::Result<Vec<Prompt>> {
    sqlx::query_as(
        "SELECT p.id, p.round_id, p.member_id, p.sent_at FROM prompts p
         JOIN rounds r ON r.id = p.round_id
         JOIN members m ON m.id = p.member_id
         JOIN users u ON u.id = m.user_id
         WHERE p.reminded_at IS NULL AND p.remind_at <= $1 AND r.closed_at IS NULL
           AND m.left_at IS NULL AND (u.paused_until IS NULL OR u.paused_until <= $1)
           AND NOT EXISTS (SELECT 1 FROM participations x
                           WHERE x.round_id = p.round_id AND x.member_id = p.member_id)
         ORDER BY p.id",
    )
    .bind(now)
    .fetch_all(conn)
    .await
}

pub async fn claim_reminder(conn: &mut Conn, prompt_id: i64, now: i64) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE prompts SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
            .bind(now)
            .bind(prompt_id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The earliest pending reminder after `after`, for the console clock.
pub async fn next_reminder_after(conn: &mut Conn, after: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(p.remind_at) FROM prompts p JOIN rounds r ON r.id = p.round_id
         WHERE p.reminded_at IS NULL AND p.remind_at > $1 AND r.closed_at IS NULL",
    )
    .bind(after)
    .fetch_one(conn)
    .await
}

pub async fn next_close_after(conn: &mut Conn, after: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(closes_at) FROM rounds WHERE closed_at IS NULL AND closes_at > $1",
    )
    .bind(after)
    .fetch_one(conn)
    .await
}

/// Records that a member answered: true the first time, false after.
pub async fn participate(conn: &mut Conn, round_id: i64, member_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO participations (round_id, member_id) VALUES ($1, $2)
         ON CONFLICT (round_id, member_id) DO NOTHING",
    )
    .bind(round_id)
    .bind(member_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// [`participate`] for many (round, member) pairs in one statement: the pairs recorded now.
pub async fn participate_many(
    conn: &mut Conn,
    pairs: &[(i64, i64)],
) -> sqlx::Result<HashSet<(i64, i64)>> {
    let mut recorded = HashSet::with_capacity(pairs.len());
    for chunk in pairs.chunks(super::BATCH_ROWS) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO participations (round_id, member_id) ",
        );
        insert.push_values(chunk, |mut row, (round, member)| {
            row.push_bind(*round).push_bind(*member);
        });
        insert.push(" ON CONFLICT (round_id, member_id) DO NOTHING RETURNING round_id, member_id");
        recorded.extend(
            insert
                .build_query_as::<(i64, i64)>()
                .persistent(false)
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(recorded)
}

pub async fn has_participated(
    conn: &mut Conn,
    round_id: i64,
    member_id: i64,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM participations WHERE round_id = $1 AND member_id = $2)",
    )
    .bind(round_id)
    .bind(member_id)
    .fetch_one(conn)
    .await
}

/// Stores an answer under a random key, with nothing that points to who gave it.
pub async fn insert_answer(
    conn: &mut Conn,
    round_id: i64,
    score: u8,
    note: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO answers (id, round_id, score, note) VALUES ($1, $2, $3, $4)")
        .bind(answer_key())
        .bind(round_id)
        .bind(score as i64)
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// A new answer: its round, score and optional note, nothing else.
pub struct NewAnswer<'a> {
    pub round_id: i64,
    pub score: u8,
    pub note: Option<&'a str>,
}

/// [`insert_answer`] for many answers in one statement.
pub async fn insert_answers(conn: &mut Conn, answers: &[NewAnswer<'_>]) -> sqlx::Result<()> {
    for chunk in answers.chunks(super::BATCH_ROWS) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO answers (id, round_id, score, note) ",
        );
        insert.push_values(chunk, |mut row, a| {
            row.push_bind(answer_key())
                .push_bind(a.round_id)
                .push_bind(a.score as i64)
                .push_bind(a.note);
        });
        insert.build().persistent(false).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A random 128-bit answer key, as hex.
fn answer_key() -> String {
    let mut key = [0u8; 16];
    rand::rng().fill_bytes(&mut key);
    hex::encode(key)
}

/// Scores and notes of a round, in key (random) order.
pub async fn answers(conn: &mut Conn, round_id: i64) -> sqlx::Result<Vec<(i64, Option<String>)>> {
    sqlx::query_as("SELECT score, note FROM answers WHERE round_id = $1 ORDER BY id")
        .bind(round_id)
        .fetch_all(conn)
        .await
}

pub async fn count_answers(conn: &mut Conn, round_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM answers WHERE round_id = $1")
        .bind(round_id)
        .fetch_one(conn)
        .await
}

/// Prompted members still in the team who have not answered: with the answers, the round's
/// member count (people who left or erased their data without answering are not counted).
pub async fn count_unanswered_active(conn: &mut Conn, round_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM prompts p JOIN members m ON m.id = p.member_id
         WHERE p.round_id = $1 AND m.left_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM participations x
                           WHERE x.round_id = p.round_id AND x.member_id = p.member_id)",
    )
    .bind(round_id)
    .fetch_one(conn)
    .await
}

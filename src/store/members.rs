//! Memberships of people in teams: capacity and the strain streak.

use sqlx::FromRow;

use super::Conn;

#[derive(Debug, Clone, FromRow)]
pub struct Member {
    pub id: i64,
    pub team_id: i64,
    pub user_id: i64,
    pub capacity: bool,
    pub streak: i64,
    pub left_at: Option<i64>,
}

/// A member with what delivery and scheduling need to know about the person.
#[derive(Debug, Clone, FromRow)]
pub struct Roster {
    pub member_id: i64,
    pub user_id: i64,
    pub external_id: String,
    pub display_name: String,
    pub tz: Option<String>,
    pub capacity: bool,
    pub streak: i64,
}

const ROSTER: &str =
    "SELECT m.id AS member_id, u.id AS user_id, u.external_id, u.display_name, u.tz,
            m.capacity, m.streak
     FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.team_id = $1 AND m.left_at IS NULL
       AND (u.paused_until IS NULL OR u.paused_until <= $2)";

/// Joins (or re-joins) a team. Returns the membership and whether it was already active.
pub async fn join(
    conn: &mut Conn,
    team_id: i64,
    user_id: i64,
    now: i64,
) -> sqlx::Result<(Member, bool)> {
    let existing = find(&mut *conn, team_id, user_id).await?;
    let was_active = existing.as_ref().is_some_and(|m| m.left_at.is_none());
    let member = sqlx::query_as(
        "INSERT INTO members (team_id, user_id, joined_at) VALUES ($1, $2, $3)
         ON CONFLICT (team_id, user_id) DO UPDATE SET left_at = NULL
         RETURNING id, team_id, user_id, capacity, streak, left_at",
    )
    .bind(team_id)
    .bind(user_id)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok((member, was_active))
}

pub async fn leave(conn: &mut Conn, member_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE members SET left_at = $1, capacity = 0, streak = 0 WHERE id = $2")
        .bind(now)
        .bind(member_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, team_id: i64, user_id: i64) -> sqlx::Result<Option<Member>> {
    sqlx::query_as(
        "SELECT id, team_id, user_id, capacity, streak, left_at FROM members
         WHERE team_id = $1 AND user_id = $2",
    )
    .bind(team_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

pub async fn get(conn: &mut Conn, member_id: i64) -> sqlx::Result<Option<Member>> {
    sqlx::query_as(
        "SELECT id, team_id, user_id, capacity, streak, left_at FROM members WHERE id = $1",
    )
    .bind(member_id)
    .fetch_optional(conn)
    .await
}

/// Active, unpaused members of a team, in join order.
pub async fn roster(conn: &mut Conn, team_id: i64, now: i64) -> sqlx::Result<Vec<Roster>> {
    let sql = sqlx::AssertSqlSafe(format!("{ROSTER} ORDER BY m.id"));
    sqlx::query_as(sql)
        .bind(team_id)
        .bind(now)
        .fetch_all(conn)
        .await
}

/// Active, unpaused members of a team that have no prompt in `round_id` yet.
pub async fn unprompted(
    conn: &mut Conn,
    team_id: i64,
    round_id: i64,
    now: i64,
) -> sqlx::Result<Vec<Roster>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{ROSTER} AND NOT EXISTS
             (SELECT 1 FROM prompts p WHERE p.round_id = $3 AND p.member_id = m.id)
         ORDER BY m.id"
    ));
    sqlx::query_as(sql)
        .bind(team_id)
        .bind(now)
        .bind(round_id)
        .fetch_all(conn)
        .await
}

pub async fn roster_entry(conn: &mut Conn, member_id: i64) -> sqlx::Result<Option<Roster>> {
    sqlx::query_as(
        "SELECT m.id AS member_id, u.id AS user_id, u.external_id, u.display_name, u.tz,
                m.capacity, m.streak
         FROM members m JOIN users u ON u.id = m.user_id WHERE m.id = $1",
    )
    .bind(member_id)
    .fetch_optional(conn)
    .await
}

/// Members currently in the team (paused included): the size the small-team warning uses.
pub async fn count_active(conn: &mut Conn, team_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE team_id = $1 AND left_at IS NULL")
        .bind(team_id)
        .fetch_one(conn)
        .await
}

/// Distinct member time zones (NULL = the team's) among active members.
pub async fn distinct_tzs(conn: &mut Conn, team_id: i64) -> sqlx::Result<Vec<Option<String>>> {
    sqlx::query_scalar(
        "SELECT DISTINCT u.tz FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.team_id = $1 AND m.left_at IS NULL",
    )
    .bind(team_id)
    .fetch_all(conn)
    .await
}

pub async fn set_capacity(conn: &mut Conn, member_id: i64, on: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE members SET capacity = $1 WHERE id = $2")
        .bind(on)
        .bind(member_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Extends the strain streak or resets it, returning the new length.
pub async fn record_streak(conn: &mut Conn, member_id: i64, strained: bool) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "UPDATE members SET streak = CASE WHEN $1 THEN streak + 1 ELSE 0 END
         WHERE id = $2 RETURNING streak",
    )
    .bind(strained)
    .bind(member_id)
    .fetch_one(conn)
    .await
}

/// [`record_streak`] for many members in one statement: each member's new streak.
pub async fn record_streaks(
    conn: &mut Conn,
    members: &[(i64, bool)],
) -> sqlx::Result<std::collections::HashMap<i64, i64>> {
    let mut streaks = std::collections::HashMap::with_capacity(members.len());
    for chunk in members.chunks(super::BATCH_ROWS) {
        // `-1` keeps `IN ()` well formed when nobody in the chunk was strained.
        let mut update = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "UPDATE members SET streak = CASE WHEN id IN (-1",
        );
        for (id, _) in chunk.iter().filter(|(_, strained)| *strained) {
            update.push(", ").push_bind(*id);
        }
        update.push(") THEN streak + 1 ELSE 0 END WHERE id IN (");
        let mut ids = update.separated(", ");
        for (id, _) in chunk {
            ids.push_bind(*id);
        }
        update.push(") RETURNING id, streak");
        streaks.extend(
            update
                .build_query_as::<(i64, i64)>()
                .persistent(false)
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(streaks)
}

/// Ends every membership of a person who left the workspace.
pub async fn leave_everywhere(
    conn: &mut Conn,
    workspace_id: i64,
    external_id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE members SET left_at = $1, capacity = 0, streak = 0
         WHERE left_at IS NULL AND user_id IN
             (SELECT id FROM users WHERE workspace_id = $2 AND external_id = $3)",
    )
    .bind(now)
    .bind(workspace_id)
    .bind(external_id)
    .execute(conn)
    .await?;
    Ok(())
}

//! Teams: a channel bound to peerpulse, with its schedule and settings.

use sqlx::FromRow;

use super::Conn;

#[derive(Debug, Clone, FromRow)]
pub struct Team {
    pub id: i64,
    pub workspace_id: i64,
    pub channel: String,
    pub channel_name: String,
    pub admin_user_id: Option<i64>,
    pub tz: String,
    pub checkin_day: String,
    pub checkin_time: String,
    pub summary_day: String,
    pub summary_time: String,
    pub min_group_size: i64,
    pub resources: String,
    pub reminder_after: i64,
    pub nudge_fanout: i64,
    pub streak_threshold: i64,
    /// When the team was set up (epoch seconds).
    pub created_at: i64,
}

const COLUMNS: &str = "id, workspace_id, channel, channel_name, admin_user_id, tz, checkin_day, \
     checkin_time, summary_day, summary_time, min_group_size, resources, reminder_after, \
     nudge_fanout, streak_threshold, created_at";

/// What `/pulse setup` and `/pulse config` may change.
#[derive(Debug, Clone)]
pub struct TeamSettings {
    pub tz: String,
    pub checkin_day: String,
    pub checkin_time: String,
    pub summary_day: String,
    pub summary_time: String,
    pub min_group_size: i64,
    pub resources: String,
    pub reminder_after: i64,
    pub nudge_fanout: i64,
    pub streak_threshold: i64,
}

impl Team {
    pub fn settings(&self) -> TeamSettings {
        TeamSettings {
            tz: self.tz.clone(),
            checkin_day: self.checkin_day.clone(),
            checkin_time: self.checkin_time.clone(),
            summary_day: self.summary_day.clone(),
            summary_time: self.summary_time.clone(),
            min_group_size: self.min_group_size,
            resources: self.resources.clone(),
            reminder_after: self.reminder_after,
            nudge_fanout: self.nudge_fanout,
            streak_threshold: self.streak_threshold,
        }
    }
}

pub async fn create_team(
    conn: &mut Conn,
    workspace_id: i64,
    channel: &str,
    channel_name: &str,
    admin_user_id: i64,
    s: &TeamSettings,
    now: i64,
) -> sqlx::Result<Team> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO teams (workspace_id, channel, channel_name, admin_user_id, tz, checkin_day,
             checkin_time, summary_day, summary_time, min_group_size, resources, reminder_after,
             nudge_fanout, streak_threshold, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING {COLUMNS}"
    ));
    sqlx::query_as(sql)
        .bind(workspace_id)
        .bind(channel)
        .bind(channel_name)
        .bind(admin_user_id)
        .bind(&s.tz)
        .bind(&s.checkin_day)
        .bind(&s.checkin_time)
        .bind(&s.summary_day)
        .bind(&s.summary_time)
        .bind(s.min_group_size)
        .bind(&s.resources)
        .bind(s.reminder_after)
        .bind(s.nudge_fanout)
        .bind(s.streak_threshold)
        .bind(now)
        .fetch_one(conn)
        .await
}

pub async fn update_settings(conn: &mut Conn, team_id: i64, s: &TeamSettings) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE teams SET tz = $1, checkin_day = $2, checkin_time = $3, summary_day = $4,
             summary_time = $5, min_group_size = $6, resources = $7, reminder_after = $8,
             nudge_fanout = $9, streak_threshold = $10
         WHERE id = $11",
    )
    .bind(&s.tz)
    .bind(&s.checkin_day)
    .bind(&s.checkin_time)
    .bind(&s.summary_day)
    .bind(&s.summary_time)
    .bind(s.min_group_size)
    .bind(&s.resources)
    .bind(s.reminder_after)
    .bind(s.nudge_fanout)
    .bind(s.streak_threshold)
    .bind(team_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_by_channel(
    conn: &mut Conn,
    workspace_id: i64,
    channel: &str,
) -> sqlx::Result<Option<Team>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM teams WHERE workspace_id = $1 AND channel = $2"
    ));
    sqlx::query_as(sql)
        .bind(workspace_id)
        .bind(channel)
        .fetch_optional(conn)
        .await
}

pub async fn get(conn: &mut Conn, team_id: i64) -> sqlx::Result<Option<Team>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM teams WHERE id = $1"));
    sqlx::query_as(sql).bind(team_id).fetch_optional(conn).await
}

/// Teams of workspaces that are not disabled, for the scheduler.
pub async fn list_active(conn: &mut Conn) -> sqlx::Result<Vec<Team>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM teams
         WHERE workspace_id IN (SELECT id FROM workspaces WHERE disabled_at IS NULL)
         ORDER BY id"
    ));
    sqlx::query_as(sql).fetch_all(conn).await
}

/// Teams a person belongs to (active memberships).
pub async fn list_for_user(conn: &mut Conn, user_id: i64) -> sqlx::Result<Vec<Team>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM teams WHERE id IN
             (SELECT team_id FROM members WHERE user_id = $1 AND left_at IS NULL)
         ORDER BY id"
    ));
    sqlx::query_as(sql).bind(user_id).fetch_all(conn).await
}

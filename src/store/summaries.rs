//! Published weekly summaries: what the channel saw, and the only source of trends and exports.

use sqlx::FromRow;

use super::Conn;

#[derive(Debug, Clone, FromRow)]
pub struct Published {
    pub round_id: i64,
    pub team_id: i64,
    pub published_at: i64,
    pub responses: i64,
    pub members: i64,
    pub mean: Option<f64>,
    pub distribution: Option<String>,
    pub body: String,
}

const COLUMNS: &str =
    "round_id, team_id, published_at, responses, members, mean, distribution, body";

pub async fn insert(conn: &mut Conn, s: &Published) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO summaries (round_id, team_id, published_at, responses, members, mean,
             distribution, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (round_id) DO NOTHING",
    )
    .bind(s.round_id)
    .bind(s.team_id)
    .bind(s.published_at)
    .bind(s.responses)
    .bind(s.members)
    .bind(s.mean)
    .bind(&s.distribution)
    .bind(&s.body)
    .execute(conn)
    .await?;
    Ok(())
}

/// The team's most recent summaries, oldest first.
pub async fn recent(conn: &mut Conn, team_id: i64, limit: i64) -> sqlx::Result<Vec<Published>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM (
             SELECT {COLUMNS} FROM summaries WHERE team_id = $1
             ORDER BY published_at DESC, round_id DESC LIMIT $2
         ) recent ORDER BY published_at, round_id"
    ));
    sqlx::query_as(sql)
        .bind(team_id)
        .bind(limit)
        .fetch_all(conn)
        .await
}

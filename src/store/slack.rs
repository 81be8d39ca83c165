//! Slack installs (encrypted bot tokens) and cached DM channels.

use super::Conn;

pub async fn save_token(
    conn: &mut Conn,
    workspace_id: i64,
    sealed_token: &str,
    bot_user_id: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO workspace_tokens (workspace_id, bot_token, bot_user_id, installed_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id) DO UPDATE SET bot_token = excluded.bot_token,
             bot_user_id = excluded.bot_user_id, installed_at = excluded.installed_at",
    )
    .bind(workspace_id)
    .bind(sealed_token)
    .bind(bot_user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn sealed_token(conn: &mut Conn, workspace_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT bot_token FROM workspace_tokens WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_optional(conn)
        .await
}

pub async fn delete_token(conn: &mut Conn, workspace_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM workspace_tokens WHERE workspace_id = $1")
        .bind(workspace_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The cached DM channel of a person (by platform user id).
pub async fn dm_channel(
    conn: &mut Conn,
    workspace_id: i64,
    external_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT d.channel FROM dm_channels d JOIN users u ON u.id = d.user_id
         WHERE u.workspace_id = $1 AND u.external_id = $2",
    )
    .bind(workspace_id)
    .bind(external_id)
    .fetch_optional(conn)
    .await
}

pub async fn save_dm_channel(
    conn: &mut Conn,
    workspace_id: i64,
    external_id: &str,
    channel: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO dm_channels (user_id, channel)
         SELECT id, $3 FROM users WHERE workspace_id = $1 AND external_id = $2
         ON CONFLICT (user_id) DO UPDATE SET channel = excluded.channel",
    )
    .bind(workspace_id)
    .bind(external_id)
    .bind(channel)
    .execute(conn)
    .await?;
    Ok(())
}

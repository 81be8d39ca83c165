//! Short button ids for the console workspace, kept so that a reopened workspace still
//! understands `/click b12`. Buttons of private replies are not kept: their order next to a
//! private prompt's buttons would tell how that person answered.

use super::Db;

pub async fn register_button(db: &Db, action_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO console_buttons (action_id) VALUES ($1) RETURNING id")
        .bind(action_id)
        .fetch_one(db)
        .await
}

/// A fresh button id that is not kept (for buttons of private replies, held in memory only).
pub async fn reserve_button_id(db: &Db) -> sqlx::Result<i64> {
    let id = register_button(db, "").await?;
    sqlx::query("DELETE FROM console_buttons WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(id)
}

pub async fn button_action(db: &Db, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT action_id FROM console_buttons WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

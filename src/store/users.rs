//! Workspaces and the people in them.

use sqlx::FromRow;

use super::Conn;

#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub workspace_id: i64,
    pub external_id: String,
    pub display_name: String,
    pub tz: Option<String>,
    pub paused_until: Option<i64>,
    pub dm_opt_in: bool,
}

impl User {
    pub fn is_paused(&self, now: i64) -> bool {
        self.paused_until.is_some_and(|until| until > now)
    }
}

pub async fn upsert_workspace(
    conn: &mut Conn,
    platform: &str,
    external_id: &str,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO workspaces (platform, external_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (platform, external_id) DO UPDATE SET platform = excluded.platform
         RETURNING id",
    )
    .bind(platform)
    .bind(external_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Finds or creates the person. The display name is replaced only when `profile_name` says
/// it comes from the person's profile; other payloads may carry a handle instead.
pub async fn upsert_user(
    conn: &mut Conn,
    workspace_id: i64,
    external_id: &str,
    display_name: &str,
    profile_name: bool,
    now: i64,
) -> sqlx::Result<User> {
    sqlx::query_as(
        "INSERT INTO users (workspace_id, external_id, display_name, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, external_id) DO UPDATE SET display_name =
             CASE WHEN $5 THEN excluded.display_name ELSE users.display_name END
         RETURNING id, workspace_id, external_id, display_name, tz, paused_until, dm_opt_in",
    )
    .bind(workspace_id)
    .bind(external_id)
    .bind(display_name)
    .bind(now)
    .bind(profile_name)
    .fetch_one(conn)
    .await
}

/// A person as an inbound event describes them, for [`upsert_users`].
#[derive(Debug, Clone)]
pub struct Sighting<'a> {
    pub workspace_id: i64,
    pub external_id: &'a str,
    pub display_name: &'a str,
    pub profile_name: bool,
}

/// [`upsert_user`] for many people in one statement; returns them in no particular order.
/// Each person must appear once.
pub async fn upsert_users(
    conn: &mut Conn,
    people: &[Sighting<'_>],
    now: i64,
) -> sqlx::Result<Vec<User>> {
    let mut users = Vec::with_capacity(people.len());
    for profile in [false, true] {
        let group: Vec<_> = people
            .iter()
            .filter(|p| p.profile_name == profile)
            .collect();
        // A conflict still updates (to the same name without a profile) so that RETURNING
        // yields every person.
        let name = if profile {
            "excluded.display_name"
        } else {
            "users.display_name"
        };
        for chunk in group.chunks(super::BATCH_ROWS) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO users (workspace_id, external_id, display_name, created_at) ",
            );
            insert.push_values(chunk, |mut row, p| {
                row.push_bind(p.workspace_id)
                    .push_bind(p.external_id)
                    .push_bind(p.display_name)
                    .push_bind(now);
            });
            insert.push(format_args!(
                " ON CONFLICT (workspace_id, external_id) DO UPDATE SET display_name = {name}
                 RETURNING id, workspace_id, external_id, display_name, tz, paused_until, dm_opt_in"
            ));
            users.extend(
                insert
                    .build_query_as::<User>()
                    .persistent(false)
                    .fetch_all(&mut *conn)
                    .await?,
            );
        }
    }
    Ok(users)
}

pub async fn find_user(
    conn: &mut Conn,
    workspace_id: i64,
    external_id: &str,
) -> sqlx::Result<Option<User>> {
    sqlx::query_as(
        "SELECT id, workspace_id, external_id, display_name, tz, paused_until, dm_opt_in
         FROM users WHERE workspace_id = $1 AND external_id = $2",
    )
    .bind(workspace_id)
    .bind(external_id)
    .fetch_optional(conn)
    .await
}

pub async fn set_tz(conn: &mut Conn, user_id: i64, tz: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET tz = $1 WHERE id = $2")
        .bind(tz)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_paused_until(
    conn: &mut Conn,
    user_id: i64,
    until: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET paused_until = $1 WHERE id = $2")
        .bind(until)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Erases the person and, through foreign keys, every row keyed to them: memberships,
/// prompts, participations, nudges, offers, their outbox rows. Asks they made stay as
/// counts with the asker cleared.
pub async fn delete_user(conn: &mut Conn, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records an inbound event key; false when it was seen before (a retry or a replay).
pub async fn first_sighting(conn: &mut Conn, key: &str, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO inbound_events (key, seen_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// [`first_sighting`] for many keys in one statement: the keys not seen before.
pub async fn first_sightings(
    conn: &mut Conn,
    keys: &[&str],
    now: i64,
) -> sqlx::Result<std::collections::HashSet<String>> {
    let mut fresh = std::collections::HashSet::with_capacity(keys.len());
    for chunk in keys.chunks(super::BATCH_ROWS) {
        let mut insert =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO inbound_events (key, seen_at) ");
        insert.push_values(chunk, |mut row, key| {
            row.push_bind(*key).push_bind(now);
        });
        insert.push(" ON CONFLICT (key) DO NOTHING RETURNING key");
        fresh.extend(
            insert
                .build_query_scalar::<String>()
                .persistent(false)
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(fresh)
}

/// Stops deliveries to a workspace until it is reinstalled.
pub async fn disable_workspace(conn: &mut Conn, workspace_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE workspaces SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2")
        .bind(now)
        .bind(workspace_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn enable_workspace(conn: &mut Conn, workspace_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE workspaces SET disabled_at = NULL WHERE id = $1")
        .bind(workspace_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_workspace(
    conn: &mut Conn,
    platform: &str,
    external_id: &str,
) -> sqlx::Result<Option<(i64, Option<i64>)>> {
    sqlx::query_as(
        "SELECT id, disabled_at FROM workspaces WHERE platform = $1 AND external_id = $2",
    )
    .bind(platform)
    .bind(external_id)
    .fetch_optional(conn)
    .await
}

/// The platform id (`T…`, guild id) of a workspace.
pub async fn workspace_external_id(
    conn: &mut Conn,
    workspace_id: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT external_id FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(conn)
        .await
}

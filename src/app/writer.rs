//! The single writer: inbound events are handled one after another on one connection, and
//! those that arrive together share a transaction (group commit). Each event runs inside its
//! own savepoint, so a refused event changes nothing while its neighbours commit.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use rand::Rng;
use sqlx::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::clock::epoch;
use crate::store::{self, Conn};

use super::{App, Ctx, Failure, INTERNAL_ERROR, Inbound, dispatch};

/// Events handled in one transaction at most.
const MAX_BATCH: usize = 64;

struct Job {
    event: Inbound,
    done: oneshot::Sender<anyhow::Result<()>>,
}

type WorkspaceKey = (String, String);

#[derive(Default)]
pub(super) struct Writer {
    jobs: OnceLock<mpsc::Sender<Job>>,
    /// Workspace ids already committed, by (platform, external id).
    workspaces: Mutex<HashMap<WorkspaceKey, i64>>,
}

/// Handles one inbound event: everything it changes and every message it causes commit
/// together. A user error changes nothing and is answered privately. Returns once the event
/// is durably stored.
#[tracing::instrument(skip_all, fields(platform = %event.workspace.platform))]
pub async fn handle(app: &App, event: Inbound) -> anyhow::Result<()> {
    let jobs = app.writer.jobs.get_or_init(|| {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(app.clone(), queue));
        jobs
    });
    let (done, result) = oneshot::channel();
    jobs.send(Job { event, done })
        .await
        .map_err(|_| anyhow::anyhow!("the writer has stopped"))?;
    result
        .await
        .map_err(|_| anyhow::anyhow!("the writer has stopped"))?
}

async fn run(app: App, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let events: Vec<&Inbound> = batch.iter().map(|job| &job.event).collect();
        let results = match write_batch(&app, &events).await {
            Ok(results) => results,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "a batch of events failed");
                let text = format!("{error:#}");
                events
                    .iter()
                    .map(|_| Err(anyhow::anyhow!(text.clone())))
                    .collect()
            }
        };
        for (job, result) in batch.into_iter().zip(results) {
            let _ = job.done.send(result);
        }
    }
}

async fn write_batch(app: &App, events: &[&Inbound]) -> anyhow::Result<Vec<anyhow::Result<()>>> {
    let mut tx = store::begin(&app.db).await?;
    let mut results: Vec<Option<anyhow::Result<()>>> = events.iter().map(|_| None).collect();
    let clicks = known_clicks(app, events);
    if clicks.len() > 1 {
        // Several answer clicks together: recorded with a few statements for all of them.
        // Should that fail, each is retried on its own below.
        let mut savepoint = tx.begin().await?;
        match super::clicks::record(&mut savepoint, &clicks, app.now()).await {
            Ok(()) => {
                savepoint.commit().await?;
                for click in &clicks {
                    results[click.index] = Some(Ok(()));
                }
            }
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "answers recorded together failed; recording them one by one"
                );
                savepoint.rollback().await?;
            }
        }
    }
    let mut fresh = Vec::new();
    for (event, result) in events.iter().zip(&mut results) {
        if result.is_none() {
            *result = Some(write_one(app, &mut tx, event, &mut fresh).await);
        }
    }
    tx.commit().await?;
    let mut known = app
        .writer
        .workspaces
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    known.extend(fresh);
    Ok(results.into_iter().flatten().collect())
}

/// The answer clicks among `events` whose workspace is already known.
fn known_clicks<'a>(app: &App, events: &[&'a Inbound]) -> Vec<super::clicks::Click<'a>> {
    let known = app
        .writer
        .workspaces
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    events
        .iter()
        .enumerate()
        .filter_map(|(index, event)| {
            let key = (
                event.workspace.platform.clone(),
                event.workspace.external_id.clone(),
            );
            let workspace_id = *known.get(&key)?;
            super::clicks::Click::of(index, event, workspace_id)
        })
        .collect()
}

/// One event inside the batch's transaction, in a savepoint of its own.
async fn write_one(
    app: &App,
    conn: &mut Conn,
    event: &Inbound,
    fresh: &mut Vec<(WorkspaceKey, i64)>,
) -> anyhow::Result<()> {
    let now = app.now();
    let reply_key = match &event.key {
        Some(key) => key.clone(),
        None => {
            let n: u64 = rand::rng().random();
            format!("{}-{n:016x}", now.timestamp())
        }
    };
    let seen_key = event
        .key
        .as_ref()
        .map(|key| format!("{}:{}", event.workspace.platform, key));
    let mut savepoint = conn.begin().await?;
    let mut ctx = context(app, &mut savepoint, event, now, reply_key.clone(), fresh).await?;
    if let Some(key) = &seen_key
        && !store::users::first_sighting(ctx.conn(), key, epoch(now)).await?
    {
        tracing::debug!("repeated event ignored");
        drop(ctx);
        savepoint.rollback().await?;
        return Ok(());
    }
    let result = dispatch(&mut ctx, event.kind.clone()).await;
    drop(ctx);
    let failure = match result {
        Ok(()) => {
            savepoint.commit().await?;
            return Ok(());
        }
        Err(failure) => failure,
    };
    savepoint.rollback().await?;
    let text = match failure {
        Failure::User(text) => text,
        Failure::Internal(error) => {
            tracing::error!(error = format!("{error:#}"), "event failed");
            INTERNAL_ERROR.to_string()
        }
    };
    let mut savepoint = conn.begin().await?;
    let mut ctx = context(
        app,
        &mut savepoint,
        event,
        now,
        format!("{reply_key}-error"),
        fresh,
    )
    .await?;
    if let Some(key) = &seen_key {
        // A retry of a refused event is still a repeat: answer it once.
        store::users::first_sighting(ctx.conn(), key, epoch(now)).await?;
    }
    ctx.reply_text(text).await.map_err(Failure::into_error)?;
    drop(ctx);
    savepoint.commit().await?;
    Ok(())
}

/// The event's workspace and person (created on first sight), as a use-case context.
async fn context<'a>(
    app: &'a App,
    conn: &'a mut Conn,
    event: &Inbound,
    now: DateTime<Utc>,
    reply_key: String,
    fresh: &mut Vec<(WorkspaceKey, i64)>,
) -> anyhow::Result<Ctx<'a>> {
    let t = epoch(now);
    let key = (
        event.workspace.platform.clone(),
        event.workspace.external_id.clone(),
    );
    let known = app
        .writer
        .workspaces
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .copied();
    let workspace_id = match known {
        Some(id) => id,
        None => {
            let id = store::users::upsert_workspace(conn, &key.0, &key.1, t).await?;
            fresh.push((key, id));
            id
        }
    };
    let mut user = store::users::upsert_user(
        conn,
        workspace_id,
        &event.actor.user_id,
        &event.actor.name,
        event.actor.profile_name,
        t,
    )
    .await?;
    if user.tz.is_none()
        && let Some(tz) = event.actor.tz.as_deref()
        && crate::domain::schedule::parse_tz(tz).is_ok()
    {
        store::users::set_tz(conn, user.id, Some(tz)).await?;
        user.tz = Some(tz.to_string());
    }
    Ok(Ctx {
        app,
        tx: conn,
        now,
        workspace_id,
        user,
        channel: event.channel.clone(),
        actor: event.actor.clone(),
        origin: event.origin.clone(),
        reply_key,
        replies: 0,
    })
}

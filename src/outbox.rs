//! Delivery: leases due outbox rows, hands them to a [`Chat`], and records the outcome:
//! retries with exponential backoff and jitter, honouring a platform's `Retry-After`; gives
//! up after `delivery.max_attempts`. A message to a person is deleted once delivered or
//! given up, so nothing about it outlives its delivery.

use std::time::Duration;

use futures_util::StreamExt;
use rand::Rng;

use crate::app::App;
use crate::clock::epoch;
use crate::domain::message::{Destination, Message};
use crate::platform::{Chat, ChatError};
use crate::store::{self, outbox};

/// How long a leased row stays invisible to other workers.
const LEASE_SECONDS: i64 = 60;
const BATCH: i64 = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    pub retried: u32,
    pub failed: u32,
    /// Put off, unattempted, until the platform's rate limits have room.
    pub held: u32,
}

/// Delivers every message due now, batch by batch, until none is left.
pub async fn deliver_due<C: Chat>(app: &App, chat: &C) -> anyhow::Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    loop {
        let now = epoch(app.now());
        let batch = {
            let mut tx = store::begin(&app.db).await?;
            let batch = outbox::claim_due(&mut tx, now, LEASE_SECONDS, BATCH).await?;
            tx.commit().await?;
            batch
        };
        if batch.is_empty() {
            return Ok(report);
        }
        // One queue per destination keeps each conversation in order; queues run side by side.
        let mut queues: Vec<(String, Vec<outbox::Pending>)> = Vec::new();
        for row in batch {
            match queues.iter_mut().find(|(to, _)| *to == row.destination) {
                Some((_, queue)) => queue.push(row),
                None => queues.push((row.destination.clone(), vec![row])),
            }
        }
        let results: Vec<anyhow::Result<(DeliveryReport, Vec<PutOff>)>> =
            futures_util::stream::iter(queues)
                .map(|(_, queue)| async move {
                    let mut report = DeliveryReport::default();
                    let mut held: Vec<PutOff> = Vec::new();
                    for row in queue {
                        // Behind a message put off, the rest of its conversation waits too,
                        // so that it keeps its order.
                        if let Some(&(_, at)) = held.first() {
                            report.held += 1;
                            held.push((row.id, at));
                        } else if let Some(put_off) =
                            deliver_one(app, chat, row, &mut report).await?
                        {
                            held.push(put_off);
                        }
                    }
                    Ok((report, held))
                })
                .buffer_unordered(chat.parallelism().max(1))
                .collect()
                .await;
        let mut held = Vec::new();
        for result in results {
            let (part, mut put_off) = result?;
            report.sent += part.sent;
            report.retried += part.retried;
            report.failed += part.failed;
            report.held += part.held;
            held.append(&mut put_off);
        }
        // Messages put off by rate limits are written back together: under a burst most of a
        // batch may be put off, and one write per row would compete with inbound events.
        if !held.is_empty() {
            let mut tx = store::begin(&app.db).await?;
            outbox::defer_many(&mut tx, &held).await?;
            tx.commit().await?;
        }
    }
}

/// A row put off by rate limits: its id and when it is due again (epoch seconds).
type PutOff = (i64, i64);

/// Delivers one leased row and records the outcome, except for a row put off by rate limits:
/// that one is returned for the caller to write back.
async fn deliver_one<C: Chat>(
    app: &App,
    chat: &C,
    row: outbox::Pending,
    report: &mut DeliveryReport,
) -> anyhow::Result<Option<PutOff>> {
    let parsed = serde_json::from_str::<Destination>(&row.destination)
        .ok()
        .zip(
            row.body
                .as_deref()
                .and_then(|b| serde_json::from_str::<Message>(b).ok()),
        );
    let Some((to, message)) = parsed else {
        let mut conn = app.db.acquire().await?;
        outbox::mark_failed(
            &mut conn,
            row.id,
            epoch(app.now()),
            "unreadable outbox row",
            false,
        )
        .await?;
        report.failed += 1;
        return Ok(None);
    };
    let result = chat.send(row.workspace_id, &to, &message).await;
    let now = epoch(app.now());
    if let Err(ChatError::Held { wait }) = result {
        report.held += 1;
        return Ok(Some((row.id, due_after(now, wait))));
    }
    let mut conn = app.db.acquire().await?;
    match result {
        Ok(()) => {
            outbox::mark_sent(&mut conn, row.id, now, !to.is_personal()).await?;
            report.sent += 1;
        }
        Err(ChatError::WorkspaceRevoked(reason)) => {
            tracing::warn!(
                workspace = row.workspace_id,
                %reason,
                "workspace credentials no longer work: deliveries to it are paused until it is reinstalled"
            );
            store::users::disable_workspace(&mut conn, row.workspace_id, now).await?;
            outbox::release(&mut conn, row.id).await?;
            report.retried += 1;
        }
        Err(ChatError::RecipientGone { user, reason }) => {
            tracing::info!(outbox_id = row.id, %reason, "recipient left the workspace; their memberships end");
            store::members::leave_everywhere(&mut conn, row.workspace_id, &user, now).await?;
            outbox::mark_failed(&mut conn, row.id, now, &reason, !to.is_personal()).await?;
            report.failed += 1;
        }
        Err(ChatError::ChannelUnavailable { channel, reason }) => {
            tracing::warn!(outbox_id = row.id, %reason, "cannot post in a team channel; telling its admin");
            outbox::mark_failed(&mut conn, row.id, now, &reason, !to.is_personal()).await?;
            crate::app::tell_admin_channel_unavailable(
                &mut conn,
                row.workspace_id,
                &channel,
                &reason,
                now,
            )
            .await
            .map_err(crate::app::Failure::into_error)?;
            report.failed += 1;
        }
        Err(ChatError::Held { .. }) => {
            // Handled before the connection was taken; written back by the caller.
        }
        Err(ChatError::Rejected(reason)) => {
            tracing::warn!(outbox_id = row.id, %reason, "message rejected by the platform");
            outbox::mark_failed(&mut conn, row.id, now, &reason, !to.is_personal()).await?;
            report.failed += 1;
        }
        Err(ChatError::Retry {
            reason,
            retry_after,
        }) => {
            let attempts = row.attempts + 1;
            if attempts >= app.config.delivery.max_attempts {
                tracing::warn!(outbox_id = row.id, %reason, attempts, "giving up on a message");
                outbox::mark_failed(&mut conn, row.id, now, &reason, !to.is_personal()).await?;
                report.failed += 1;
            } else {
                let wait = retry_delay(app, attempts, retry_after);
                tracing::debug!(outbox_id = row.id, %reason, ?wait, "delivery will be retried");
                outbox::mark_retry(&mut conn, row.id, due_after(now, wait), &reason).await?;
                report.retried += 1;
            }
        }
    }
    Ok(None)
}

/// The epoch second at least `wait` after `now` (and at least one second later).
fn due_after(now: i64, wait: Duration) -> i64 {
    now + (wait.as_millis() as i64 + 999).div_euclid(1000).max(1)
}

/// `Retry-After` plus up to a second of jitter when the platform gave one; otherwise
/// exponential backoff from `backoff_base`, capped at `backoff_max`, with full jitter over
/// its upper half.
pub fn retry_delay(app: &App, attempts: i64, retry_after: Option<Duration>) -> Duration {
    let mut rng = rand::rng();
    if let Some(after) = retry_after {
        return after + Duration::from_millis(rng.random_range(0..=1000));
    }
    let base = app
        .config
        .delivery
        .backoff_base
        .0
        .to_std()
        .unwrap_or(Duration::from_secs(2));
    let max = app
        .config
        .delivery
        .backoff_max
        .0
        .to_std()
        .unwrap_or(Duration::from_secs(600));
    let exp = base
        .saturating_mul(1u32 << attempts.clamp(0, 20) as u32)
        .min(max);
    let half = exp / 2;
    half + Duration::from_millis(rng.random_range(0..=half.as_millis() as u64))
}

/// Delivers continuously until `stop` resolves, polling every `every`.
pub async fn run<C: Chat>(
    app: App,
    chat: C,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut ticker = tokio::time::interval(every);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {
                if let Err(error) = deliver_due(&app, &chat).await {
                    tracing::error!(error = format!("{error:#}"), "delivery failed");
                }
            }
        }
    }
}

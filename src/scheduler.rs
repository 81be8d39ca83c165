//! Due work from persisted rows: check-in prompts at each member's local time, reminders,
//! round closes with their summary, and the timers of asks. Every occurrence is claimed in
//! the database (a unique key or a conditional update) in the same transaction as the
//! messages it causes, so two ticks, two processes or a restart never double-send. A missed
//! check-in gets one catch-up inside the grace window; older slots are skipped, never queued.

use chrono::{DateTime, Utc};

use crate::app::{self, App};
use crate::clock::{epoch, from_epoch};
use crate::domain::schedule::week_monday;
use crate::store::{self, asks, members, outbox, rounds, teams};

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    pub prompted: u32,
    pub reminded: u32,
    pub closed: u32,
    pub ask_steps: u32,
}

/// Runs everything due at the clock's current time.
#[tracing::instrument(skip_all)]
pub async fn tick(app: &App) -> anyhow::Result<TickReport> {
    let now = app.now();
    let report = TickReport {
        closed: close_due_rounds(app, now).await?,
        prompted: prompt_due_members(app, now).await?,
        reminded: remind(app, now).await?,
        ask_steps: ask_timers(app, now).await?,
    };
    if report != TickReport::default() {
        tracing::debug!(?report, "tick");
    }
    Ok(report)
}

async fn close_due_rounds(app: &App, now: DateTime<Utc>) -> anyhow::Result<u32> {
    let due = rounds::due_to_close(&mut *app.db.acquire().await?, epoch(now)).await?;
    let mut closed = 0;
    for round in due {
        let mut tx = store::begin(&app.db).await?;
        if app::close_round(&mut tx, &round, epoch(now))
            .await
            .map_err(internal)?
        {
            closed += 1;
        }
        tx.commit().await?;
    }
    Ok(closed)
}

/// For each team and each member time zone, the latest check-in slot: if it is inside the
/// grace window and its round has not closed, prompt the members of that zone who have no
/// prompt in the round yet.
async fn prompt_due_members(app: &App, now: DateTime<Utc>) -> anyhow::Result<u32> {
    let grace = app.config.scheduler.catch_up_grace.0;
    let mut conn = app.db.acquire().await?;
    let teams = teams::list_active(&mut conn).await?;
    let mut prompted = 0;
    for team in teams {
        let (team_tz, schedule) = app::team_schedule(&team);
        let zones = members::distinct_tzs(&mut conn, team.id).await?;
        let mut zones: Vec<_> = zones
            .iter()
            .map(|tz| app::member_tz(tz.as_deref(), team_tz))
            .collect();
        zones.sort_by_key(|tz| tz.name());
        zones.dedup();
        for tz in zones {
            let slot = schedule.checkin.latest_at_or_before(tz, now);
            // A slot missed while the bot was down gets its catch-up; one that passed before
            // the team was set up does not (its first check-in is the next slot).
            if now - slot > grace || slot.timestamp() < team.created_at {
                continue;
            }
            let week = week_monday(tz, slot);
            let closes = schedule.close_for_week(team_tz, week);
            if now >= closes {
                continue;
            }
            let week_key = week.format("%Y-%m-%d").to_string();
            if let Some(round) = rounds::find_week(&mut conn, team.id, &week_key).await?
                && round.closed_at.is_some()
            {
                continue;
            }
            let mut tx = store::begin(&app.db).await?;
            let round =
                rounds::get_or_open(&mut tx, team.id, &week_key, epoch(now), epoch(closes)).await?;
            if round.closed_at.is_none() {
                prompted += app::prompt_members(&mut tx, &team, &round, Some(tz), slot, now)
                    .await
                    .map_err(internal)?;
            }
            tx.commit().await?;
        }
    }
    Ok(prompted)
}

async fn remind(app: &App, now: DateTime<Utc>) -> anyhow::Result<u32> {
    let due = rounds::due_reminders(&mut *app.db.acquire().await?, epoch(now)).await?;
    let mut reminded = 0;
    for prompt in due {
        let mut tx = store::begin(&app.db).await?;
        if app::remind_prompt(&mut tx, &prompt, epoch(now))
            .await
            .map_err(internal)?
        {
            reminded += 1;
        }
        tx.commit().await?;
    }
    Ok(reminded)
}

async fn ask_timers(app: &App, now: DateTime<Utc>) -> anyhow::Result<u32> {
    let t = epoch(now);
    let mut steps = 0;
    let mut conn = app.db.acquire().await?;
    let releases = asks::due_releases(&mut conn, t).await?;
    let widens = asks::due_widens(&mut conn, t).await?;
    let expiries = asks::due_expiries(&mut conn, t).await?;
    drop(conn);
    for ask in releases {
        let mut tx = store::begin(&app.db).await?;
        app::release_ask(&mut tx, &ask, t).await.map_err(internal)?;
        tx.commit().await?;
        steps += 1;
    }
    for ask in widens {
        let mut tx = store::begin(&app.db).await?;
        app::widen_ask(&mut tx, &ask, t).await.map_err(internal)?;
        tx.commit().await?;
        steps += 1;
    }
    for ask in expiries {
        let mut tx = store::begin(&app.db).await?;
        app::expire_ask(&mut tx, &ask, t).await.map_err(internal)?;
        tx.commit().await?;
        steps += 1;
    }
    Ok(steps)
}

/// The next instant strictly after `after` at which something may fall due: a check-in
/// slot, a reminder, a round close, an ask timer or a delivery retry.
pub async fn next_due(app: &App, after: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut conn = app.db.acquire().await?;
    let t = epoch(after);
    let mut candidates: Vec<DateTime<Utc>> = Vec::new();
    for team in teams::list_active(&mut conn).await? {
        let (team_tz, schedule) = app::team_schedule(&team);
        for tz in members::distinct_tzs(&mut conn, team.id).await? {
            let tz = app::member_tz(tz.as_deref(), team_tz);
            candidates.push(schedule.checkin.next_after(tz, after));
        }
    }
    for next in [
        rounds::next_close_after(&mut conn, t).await?,
        rounds::next_reminder_after(&mut conn, t).await?,
        asks::next_timer_after(&mut conn, t).await?,
        outbox::next_attempt_after(&mut conn, t).await?,
    ]
    .into_iter()
    .flatten()
    {
        candidates.push(from_epoch(next));
    }
    Ok(candidates.into_iter().filter(|c| *c > after).min())
}

/// Runs the scheduler every `tick_interval` until `stop` resolves.
pub async fn run(app: App, stop: impl std::future::Future<Output = ()>) {
    let interval = app
        .config
        .scheduler
        .tick_interval
        .0
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(30));
    let mut ticker = tokio::time::interval(interval);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {
                if let Err(error) = tick(&app).await {
                    tracing::error!(error = format!("{error:#}"), "scheduler tick failed");
                }
            }
        }
    }
}

fn internal(failure: app::Failure) -> anyhow::Error {
    failure.into_error()
}

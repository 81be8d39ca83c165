//! Opening and closing rounds off-schedule, and the weekly summary published at close.

use chrono::TimeDelta;

use crate::clock::from_epoch;
use crate::domain::message::{Destination, Message};
use crate::domain::schedule::week_monday;
use crate::domain::summary::{self, PastRound, RoundFacts};
use crate::domain::{LoadScore, MinGroupSize};
use crate::store::rounds::Round;
use crate::store::teams::Team;
use crate::store::{self, Conn, asks, rounds, summaries, teams};

use super::teams::{require_admin, resolve_team};
use super::{Ctx, Outcome, checkin, enqueue, text, user_error};

/// `/pulse start`: opens this week's round now and prompts every active member.
pub async fn start(ctx: &mut Ctx<'_>) -> Outcome {
    let team = resolve_team(ctx).await?;
    require_admin(ctx, &team)?;
    let (tz, schedule) = text::schedule(&team);
    let now = ctx.now;
    if let Some(open) = rounds::open_for_team(ctx.conn(), team.id).await? {
        return user_error(format!(
            "A round is already open in {}; it closes {}.",
            text::channel(&team),
            text::when(from_epoch(open.closes_at), tz)
        ));
    }
    let week = week_monday(tz, now);
    let week_key = week.format("%Y-%m-%d").to_string();
    if rounds::find_week(ctx.conn(), team.id, &week_key)
        .await?
        .is_some()
    {
        let next = schedule.checkin.next_after(tz, now);
        return user_error(format!(
            "This week's round in {} has already run (one round per week). The next one opens {}.",
            text::channel(&team),
            text::when(next, tz)
        ));
    }
    // This week's summary time if it is still ahead; otherwise the next summary time, but
    // never past the next scheduled check-in, so rounds never overlap.
    let scheduled_close = schedule.close_for_week(tz, week);
    let closes = if scheduled_close > now {
        scheduled_close
    } else {
        schedule
            .summary
            .next_after(tz, now)
            .min(schedule.checkin.next_after(tz, now))
    };
    let opened = ctx.epoch();
    let round =
        rounds::get_or_open(ctx.conn(), team.id, &week_key, opened, closes.timestamp()).await?;
    let prompted = checkin::prompt_members(ctx.conn(), &team, &round, None, now, now).await?;
    ctx.reply_text(format!(
        "Round started in {}: {prompted} member(s) prompted. It closes {}.",
        text::channel(&team),
        text::when(closes, tz)
    ))
    .await
}

/// `/pulse close`: closes the open round now and posts its summary.
pub async fn close(ctx: &mut Ctx<'_>) -> Outcome {
    let team = resolve_team(ctx).await?;
    require_admin(ctx, &team)?;
    let Some(round) = rounds::open_for_team(ctx.conn(), team.id).await? else {
        return user_error(format!("No round is open in {}.", text::channel(&team)));
    };
    let now = ctx.epoch();
    close_round(ctx.conn(), &round, now).await?;
    ctx.reply_text(format!(
        "Round closed; the summary is posted in {}.",
        text::channel(&team)
    ))
    .await
}

/// `/pulse summary`: the latest published summary, and how many answered so far this round.
pub async fn summary(ctx: &mut Ctx<'_>) -> Outcome {
    let team = resolve_team(ctx).await?;
    let mut lines = Vec::new();
    if let Some(open) = rounds::open_for_team(ctx.conn(), team.id).await? {
        let answered = rounds::count_answers(ctx.conn(), open.id).await?;
        let (tz, _) = text::schedule(&team);
        lines.push(format!(
            "This round: {answered}/{} answered so far; the summary comes {}.",
            open.prompted,
            text::when(from_epoch(open.closes_at), tz)
        ));
    }
    match summaries::recent(ctx.conn(), team.id, 1).await?.pop() {
        Some(last) => lines.push(last.body),
        None => lines.push(format!(
            "No summary has been published in {} yet.",
            text::channel(&team)
        )),
    }
    ctx.reply_text(lines.join("\n")).await
}

/// Closes a round once (whoever calls first) and publishes its summary to the team channel.
#[tracing::instrument(skip(conn, round), fields(round = round.id))]
pub async fn close_round(conn: &mut Conn, round: &Round, now: i64) -> Outcome<bool> {
    if !rounds::claim_close(conn, round.id, now).await? {
        return Ok(false);
    }
    let team = teams::get(conn, round.team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("round without team"))?;
    if round.prompted == 0 && rounds::count_answers(conn, round.id).await? == 0 {
        // Nobody was asked (everyone paused): nothing to publish.
        return Ok(true);
    }
    let (body, published) = summarize(conn, &team, round, now).await?;
    summaries::insert(conn, &published).await?;
    let to = Destination::Channel {
        channel: team.channel.clone(),
    };
    let key = format!("summary:{}", round.id);
    enqueue(
        conn,
        &key,
        team.workspace_id,
        None,
        &to,
        &Message::text(body),
        now,
        now,
    )
    .await?;
    Ok(true)
}

async fn summarize(
    conn: &mut Conn,
    team: &Team,
    round: &Round,
    now: i64,
) -> Outcome<(String, store::summaries::Published)> {
    let min_group = MinGroupSize::new(team.min_group_size).unwrap_or_default();
    let answers = rounds::answers(conn, round.id).await?;
    let still_expected = rounds::count_unanswered_active(conn, round.id).await?;
    let asks = asks::made_between(conn, team.id, round.opened_at, now + 1).await?;
    let history: Vec<PastRound> = summaries::recent(conn, team.id, 6)
        .await?
        .into_iter()
        .map(|s| PastRound {
            mean: s.mean,
            responses: s.responses as u32,
            members: s.members as u32,
        })
        .collect();
    let facts = RoundFacts {
        members: (answers.len() as i64 + still_expected) as u32,
        scores: answers
            .iter()
            .filter_map(|(score, _)| LoadScore::try_from(*score).ok())
            .collect(),
        notes: answers
            .iter()
            .filter_map(|(_, note)| note.clone())
            .collect(),
        asks_made: asks.len() as u32,
        offers_given: asks.iter().map(|a| a.offers as u32).sum(),
        first_offer_delays: asks
            .iter()
            .filter_map(|a| {
                Some(TimeDelta::seconds(
                    a.first_offer_at? - a.released_at.unwrap_or(a.created_at),
                ))
            })
            .collect(),
        asks_without_offer: asks.iter().filter(|a| a.offers == 0).count() as u32,
    };
    let summary = summary::summarize(facts, &history, min_group, &mut rand::rng());
    let (tz, schedule) = text::schedule(team);
    let week = chrono::NaiveDate::parse_from_str(&round.week, "%Y-%m-%d")
        .unwrap_or_else(|_| week_monday(tz, from_epoch(round.opened_at)));
    // Rounds are keyed by ISO week (Monday); the heading names the week's check-in day.
    let checkin_day = week + TimeDelta::days(schedule.checkin.day.num_days_from_monday().into());
    let heading = format!(
        "Weekly pulse for {}, week of {}",
        text::channel(team),
        checkin_day.format("%-d %b %Y")
    );
    let body = summary::render_text(&summary, min_group, &heading);
    let published = store::summaries::Published {
        round_id: round.id,
        team_id: team.id,
        published_at: now,
        responses: summary.responses as i64,
        members: summary.members as i64,
        mean: summary.details.as_ref().map(|d| d.mean),
        distribution: summary
            .details
            .as_ref()
            .map(|d| serde_json::to_string(&d.distribution).unwrap_or_default()),
        body: body.clone(),
    };
    Ok((body, published))
}

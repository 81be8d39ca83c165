//! Check-ins: prompting members, and recording an answer so that nothing links it to them.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::clock::from_epoch;
use crate::domain::LoadScore;
use crate::domain::action::{Action, AskMode};
use crate::domain::command::CheckinAnswer;
use crate::domain::message::{Destination, Message};
use crate::store::rounds::{Prompt, Round};
use crate::store::teams::Team;
use crate::store::{Conn, members, rounds, teams};

use super::teams::{active_member, resolve_team};
use super::{Ctx, Outcome, enqueue, text, user_error};

/// The check-in prompt for one member: five load buttons.
pub fn prompt_message(
    team: &Team,
    prompt_id: i64,
    closes: DateTime<Utc>,
    tz: Tz,
    reminder: bool,
) -> Message {
    let lead = if reminder {
        format!(
            "A gentle reminder: the {} check-in is still open.",
            text::channel(team)
        )
    } else {
        format!("Weekly check-in for {}.", text::channel(team))
    };
    let mut message =
        Message::text(format!("{lead} {}", text::PROMPT_QUESTION)).with_section(format!(
            "{} Open until {}.",
            text::PROMPT_PRIVACY,
            text::when(closes, tz)
        ));
    for score in LoadScore::ALL {
        message = message.with_button(
            format!("{} {}", score.value(), score.label()),
            Action::Answer {
                prompt: prompt_id,
                score,
            },
        );
    }
    message.with_button("Add a note…", Action::Note { prompt: prompt_id })
}

/// Members prompted per statement group in [`prompt_members`].
const PROMPT_CHUNK: usize = 1000;

/// Prompts the team's active members who have no prompt in `round` yet (only those whose
/// time zone is `only_tz`, when given). Each prompt is claimed once by its unique key, so
/// two schedulers or a restart never double-send. Returns how many were prompted.
pub async fn prompt_members(
    conn: &mut Conn,
    team: &Team,
    round: &Round,
    only_tz: Option<Tz>,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Outcome<u32> {
    let (team_tz, _) = text::schedule(team);
    let remind_at = now + TimeDelta::seconds(team.reminder_after);
    let closes = from_epoch(round.closes_at);
    let pending: Vec<_> = members::unprompted(conn, team.id, round.id, now.timestamp())
        .await?
        .into_iter()
        .map(|m| (text::member_tz(m.tz.as_deref(), team_tz), m))
        .filter(|(tz, _)| only_tz.is_none_or(|only| only == *tz))
        .collect();
    let mut prompted = 0u32;
    // In chunks, so that a big team's rendered prompts never sit in memory all at once.
    for chunk in pending.chunks(PROMPT_CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|(_, m)| m.member_id).collect();
        let claimed = rounds::claim_prompts(
            conn,
            round.id,
            &ids,
            due.timestamp(),
            now.timestamp(),
            remind_at.timestamp(),
        )
        .await?;
        let by_member: std::collections::HashMap<i64, i64> = claimed
            .iter()
            .map(|(prompt, member)| (*member, *prompt))
            .collect();
        let mut messages = super::Outgoing::default();
        for (tz, member) in chunk {
            let Some(prompt_id) = by_member.get(&member.member_id) else {
                continue;
            };
            let to = Destination::Dm {
                user: member.external_id.clone(),
            };
            messages.add(
                format!("prompt:{prompt_id}"),
                team.workspace_id,
                member.user_id,
                &to,
                &prompt_message(team, *prompt_id, closes, *tz, false),
            )?;
        }
        messages.enqueue(conn, now.timestamp()).await?;
        prompted += claimed.len() as u32;
    }
    if prompted > 0 {
        rounds::add_prompted(conn, round.id, prompted as i64).await?;
    }
    Ok(prompted)
}

/// `/pulse checkin`: shows the prompt privately; `/pulse checkin 4 note` answers directly.
pub async fn checkin(ctx: &mut Ctx<'_>, answer: Option<CheckinAnswer>) -> Outcome {
    let team = resolve_team(ctx).await?;
    let member = active_member(ctx, &team).await?;
    let (team_tz, schedule) = text::schedule(&team);
    let tz = text::member_tz(ctx.user.tz.as_deref(), team_tz);
    let Some(round) = rounds::open_for_team(ctx.conn(), team.id).await? else {
        let next = schedule.checkin.next_after(tz, ctx.now);
        return user_error(format!(
            "No round is open in {} right now. The next check-in is {}.",
            text::channel(&team),
            text::when(next, tz)
        ));
    };
    let now = ctx.now;
    let prompt_id = match rounds::find_prompt(ctx.conn(), round.id, member.id).await? {
        Some(prompt) => prompt.id,
        None => {
            let remind_at = now + TimeDelta::seconds(team.reminder_after);
            let id = rounds::claim_prompt(
                ctx.conn(),
                round.id,
                member.id,
                now.timestamp(),
                now.timestamp(),
                remind_at.timestamp(),
            )
            .await?
            .ok_or_else(|| anyhow::anyhow!("prompt claimed concurrently"))?;
            rounds::add_prompted(ctx.conn(), round.id, 1).await?;
            id
        }
    };
    match answer {
        None => {
            if rounds::has_participated(ctx.conn(), round.id, member.id).await? {
                return user_error(already_answered());
            }
            let message = prompt_message(&team, prompt_id, from_epoch(round.closes_at), tz, false);
            ctx.reply(message).await
        }
        Some(answer) => {
            let note = answer.note.as_ref().map(|n| n.as_str().to_string());
            record_answer(ctx, &team, &round, member.id, answer.score, note.as_deref()).await
        }
    }
}

/// A click on a load button.
pub async fn answer_prompt(
    ctx: &mut Ctx<'_>,
    prompt_id: i64,
    score: LoadScore,
    note: Option<String>,
) -> Outcome {
    let Some((member, round)) = rounds::prompted(ctx.conn(), prompt_id).await? else {
        return user_error(text::INVALID_ACTION);
    };
    if member.user_id != ctx.user.id {
        return user_error(WRONG_PERSON);
    }
    let team = teams::get(ctx.conn(), member.team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("member without team"))?;
    if member.left_at.is_some() {
        return user_error(left_team(&team));
    }
    record_answer(ctx, &team, &round, member.id, score, note.as_deref()).await?;
    if let Some(origin) = ctx.origin.clone() {
        let to = Destination::Replace {
            user: ctx.user.external_id.clone(),
            channel: origin.channel,
            message: origin.message,
        };
        let key = format!("replace:{prompt_id}");
        let (ws, uid, now) = (ctx.workspace_id, ctx.user.id, ctx.epoch());
        enqueue(
            ctx.conn(),
            &key,
            ws,
            Some(uid),
            &to,
            &answered(&team),
            now,
            now,
        )
        .await?;
    }
    Ok(())
}

pub(super) const WRONG_PERSON: &str =
    "That check-in was meant for someone else, so I didn't record anything.";

pub(super) fn left_team(team: &Team) -> String {
    format!(
        "You've left {}, so I didn't record anything.",
        text::channel(team)
    )
}

pub(super) fn round_closed(team: &Team, now: DateTime<Utc>) -> String {
    let (tz, schedule) = text::schedule(team);
    format!(
        "This round has closed, so answers can't be added any more. The next check-in is {}.",
        text::when(schedule.checkin.next_after(tz, now), tz)
    )
}

/// Whether `round` no longer takes answers at `now`.
pub(super) fn is_closed(round: &Round, now: i64) -> bool {
    round.closed_at.is_some() || round.closes_at <= now
}

/// What replaces a prompt once it is answered.
pub(super) fn answered(team: &Team) -> Message {
    Message::text(format!(
        "Weekly check-in for {}: done, thank you. Your answer counts in the team's totals, without your name.",
        text::channel(team)
    ))
}

/// The private reply to an answer: thanks, and for a heavy load the offer to ask for help.
pub(super) fn thanks(team: &Team, score: LoadScore) -> Message {
    let thanks = format!("Thanks, your check-in for {} is in.", text::channel(team));
    if !score.is_strain() {
        return Message::text(thanks);
    }
    super::asks::ask_buttons(
        Message::text(format!("{thanks} {}", text::STRAIN_QUESTION)),
        team.id,
        AskMode::Anonymous,
    )
}

/// The personal message to someone whose load was heavy `streak` rounds in a row, when the
/// streak reaches a multiple of the team's threshold.
pub(super) fn streak_message(team: &Team, streak: i64) -> Option<Message> {
    if streak == 0 || streak % team.streak_threshold.max(1) != 0 {
        return None;
    }
    Some(Message::text(format!(
        "You've told me your load was heavy {streak} rounds in a row. That is a lot to carry, and \
         it's worth talking about with someone. {}\nOnly you see this message.",
        team.resources
    )))
}

/// Records an answer: who answered and what was answered go to separate tables, and the
/// confirmation carries no score.
#[tracing::instrument(skip_all, fields(round = round.id))]
async fn record_answer(
    ctx: &mut Ctx<'_>,
    team: &Team,
    round: &Round,
    member_id: i64,
    score: LoadScore,
    note: Option<&str>,
) -> Outcome {
    if is_closed(round, ctx.epoch()) {
        return user_error(round_closed(team, ctx.now));
    }
    if !rounds::participate(ctx.conn(), round.id, member_id).await? {
        return user_error(already_answered());
    }
    rounds::insert_answer(ctx.conn(), round.id, score.value(), note).await?;
    let streak = members::record_streak(ctx.conn(), member_id, score.is_strain()).await?;
    ctx.reply(thanks(team, score)).await?;
    if let Some(message) = streak_message(team, streak) {
        let to = Destination::Dm {
            user: ctx.user.external_id.clone(),
        };
        let key = format!("streak:{}:{}", member_id, round.id);
        let (ws, uid, now) = (ctx.workspace_id, ctx.user.id, ctx.epoch());
        enqueue(ctx.conn(), &key, ws, Some(uid), &to, &message, now, now).await?;
    }
    Ok(())
}

pub(super) fn already_answered() -> String {
    "You've already checked in this round. Answers are final, because they can't be traced back to you.".into()
}

/// The one reminder to a member who has not answered (claimed once).
pub async fn remind_prompt(conn: &mut Conn, prompt: &Prompt, now: i64) -> Outcome<bool> {
    if !rounds::claim_reminder(conn, prompt.id, now).await? {
        return Ok(false);
    }
    let Some(member) = members::roster_entry(conn, prompt.member_id).await? else {
        return Ok(false);
    };
    let Some(round) = rounds::get(conn, prompt.round_id).await? else {
        return Ok(false);
    };
    let Some(team) = teams::get(conn, round.team_id).await? else {
        return Ok(false);
    };
    let (team_tz, _) = text::schedule(&team);
    let tz = text::member_tz(member.tz.as_deref(), team_tz);
    let message = prompt_message(&team, prompt.id, from_epoch(round.closes_at), tz, true);
    let to = Destination::Dm {
        user: member.external_id,
    };
    let key = format!("remind:{}", prompt.id);
    enqueue(
        conn,
        &key,
        team.workspace_id,
        Some(member.user_id),
        &to,
        &message,
        now,
        now,
    )
    .await?;
    Ok(true)
}

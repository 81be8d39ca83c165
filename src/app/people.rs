//! What a person controls about themselves: capacity, pause, time zone, seeing and erasing
//! what peerpulse keeps.

use chrono::{Days, NaiveTime};
use chrono_tz::Tz;

use crate::clock::from_epoch;
use crate::domain::duration::PauseSpec;
use crate::domain::schedule::{parse_tz, resolve_local};
use crate::store::{asks, members, outbox, rounds, teams, users};

use super::teams::{active_member, resolve_team};
use super::{Ctx, Outcome, text, user_error};

pub async fn capacity(ctx: &mut Ctx<'_>, on: Option<bool>) -> Outcome {
    let team = resolve_team(ctx).await?;
    let member = active_member(ctx, &team).await?;
    let on = on.unwrap_or(true);
    members::set_capacity(ctx.conn(), member.id, on).await?;
    let text = if on {
        format!(
            "Noted: you have room to help in {}. You'll be among the first asked when a teammate needs a hand.",
            text::channel(&team)
        )
    } else {
        format!(
            "Noted: no spare capacity in {} for now.",
            text::channel(&team)
        )
    };
    ctx.reply_text(text).await
}

async fn own_tz(ctx: &mut Ctx<'_>) -> Outcome<Tz> {
    if let Some(tz) = ctx.user.tz.as_deref().and_then(|tz| parse_tz(tz).ok()) {
        return Ok(tz);
    }
    // Without one of their own: this channel's team's, else their first team's.
    let (ws, channel, user) = (ctx.workspace_id, ctx.channel.id.clone(), ctx.user.id);
    let team = match teams::find_by_channel(ctx.conn(), ws, &channel).await? {
        Some(team) => Some(team),
        None => teams::list_for_user(ctx.conn(), user)
            .await?
            .into_iter()
            .next(),
    };
    Ok(team
        .and_then(|team| parse_tz(&team.tz).ok())
        .or_else(|| parse_tz(&ctx.app.config.teams.timezone).ok())
        .unwrap_or(Tz::UTC))
}

pub async fn pause(ctx: &mut Ctx<'_>, spec: PauseSpec) -> Outcome {
    let tz = own_tz(ctx).await?;
    let until = match spec {
        PauseSpec::For(length) => ctx.now + length,
        PauseSpec::Until(date) => {
            let next_day = date.checked_add_days(Days::new(1)).unwrap_or(date);
            resolve_local(tz, next_day, NaiveTime::MIN)
        }
    };
    if until <= ctx.now {
        return user_error("That date has already passed. Try `/pulse pause 2w` or a date ahead.");
    }
    let user = ctx.user.id;
    users::set_paused_until(ctx.conn(), user, Some(until.timestamp())).await?;
    ctx.reply_text(format!(
        "Paused until {}. No check-ins, reminders or nudges until then; `/pulse resume` brings you back early.",
        text::when(until, tz)
    ))
    .await
}

pub async fn resume(ctx: &mut Ctx<'_>) -> Outcome {
    if !ctx.user.is_paused(ctx.epoch()) {
        return user_error("You're not paused.");
    }
    let user = ctx.user.id;
    users::set_paused_until(ctx.conn(), user, None).await?;
    ctx.reply_text("Welcome back. Check-ins will reach you again from the next one.")
        .await
}

pub async fn tz(ctx: &mut Ctx<'_>, tz: Option<Tz>) -> Outcome {
    let Some(tz) = tz else {
        let text = match &ctx.user.tz {
            Some(tz) => {
                format!("Your time zone is {tz}. Change it with `/pulse tz Europe/Berlin`.")
            }
            None => {
                "You use your team's time zone. Set your own with `/pulse tz Europe/Berlin`.".into()
            }
        };
        return ctx.reply_text(text).await;
    };
    let user = ctx.user.id;
    users::set_tz(ctx.conn(), user, Some(tz.name())).await?;
    ctx.reply_text(format!(
        "Your time zone is now {}. Check-ins arrive at the team's check-in time, your time.",
        tz.name()
    ))
    .await
}

/// `/pulse me`: everything stored about the person.
pub async fn me(ctx: &mut Ctx<'_>) -> Outcome {
    let now = ctx.epoch();
    let user = ctx.user.clone();
    let mut lines = vec![
        "Here is everything peerpulse keeps about you:".to_string(),
        format!("• name: {} (id {})", user.display_name, user.external_id),
        format!(
            "• time zone: {}",
            user.tz.as_deref().unwrap_or("your team's")
        ),
    ];
    if let Some(until) = user.paused_until.filter(|u| *u > now) {
        let tz = own_tz(ctx).await?;
        lines.push(format!(
            "• paused until {}",
            text::when(from_epoch(until), tz)
        ));
    }
    for team in teams::list_for_user(ctx.conn(), user.id).await? {
        let Some(member) = members::find(ctx.conn(), team.id, user.id).await? else {
            continue;
        };
        let mut line = format!(
            "• member of {}: spare capacity {}, heavy rounds in a row {}",
            text::channel(&team),
            if member.capacity { "on" } else { "off" },
            member.streak
        );
        if let Some(round) = rounds::open_for_team(ctx.conn(), team.id).await? {
            let answered = rounds::has_participated(ctx.conn(), round.id, member.id).await?;
            line.push_str(if answered {
                "; checked in this round"
            } else {
                "; not checked in this round"
            });
        }
        if asks::open_by(ctx.conn(), member.id).await?.is_some() {
            line.push_str("; one open ask for help");
        }
        if team.admin_user_id == Some(user.id) {
            line.push_str("; admin");
        }
        lines.push(line);
    }
    lines.push(
        "Your answers themselves are stored without your name, so nobody (peerpulse included) can show \
         them to you or anyone else. `/pulse forget-me` erases everything above."
            .into(),
    );
    ctx.reply_text(lines.join("\n")).await
}

/// `/pulse forget-me`: erases every row keyed to the person, at once. Answers stay in the
/// totals; they were never linked to the person.
pub async fn forget_me(ctx: &mut Ctx<'_>) -> Outcome {
    let (user, now) = (ctx.user.id, ctx.epoch());
    let memberships: Vec<i64> = sqlx::query_scalar("SELECT id FROM members WHERE user_id = $1")
        .bind(user)
        .fetch_all(ctx.conn())
        .await?;
    for member in memberships {
        for ask in asks::unlink_asker(ctx.conn(), member, now).await? {
            outbox::drop_pending(ctx.conn(), &format!("nudge:{ask}:")).await?;
        }
    }
    users::delete_user(ctx.conn(), user).await?;
    tracing::info!("a person erased their data");
    ctx.forget_actor();
    ctx.reply_text("Done. Everything peerpulse kept about you is erased. Your past answers still count in the team's totals, but they were never linked to you.")
        .await
}

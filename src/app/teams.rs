//! Binding a channel as a team, joining and leaving it, and its settings.

use crate::domain::MinGroupSize;
use crate::domain::command::{ConfigChange, SetupArgs};
use crate::domain::duration::format_duration;
use crate::domain::message::{Destination, Message};
use crate::domain::schedule::{parse_tz, weekday_short};
use crate::store::members::Member;
use crate::store::teams::{Team, TeamSettings};
use crate::store::{members, teams};

use super::{Ctx, Outcome, enqueue, text, user_error};

/// The team of the channel the actor wrote in; in a DM, the actor's only team.
pub async fn resolve_team(ctx: &mut Ctx<'_>) -> Outcome<Team> {
    let (ws, channel, user) = (ctx.workspace_id, ctx.channel.id.clone(), ctx.user.id);
    if let Some(team) = teams::find_by_channel(ctx.conn(), ws, &channel).await? {
        return Ok(team);
    }
    let mut mine = teams::list_for_user(ctx.conn(), user).await?;
    if mine.len() == 1 {
        return Ok(mine.remove(0));
    }
    user_error(text::NOT_A_TEAM)
}

/// The actor's active membership in `team`.
pub async fn active_member(ctx: &mut Ctx<'_>, team: &Team) -> Outcome<Member> {
    let user = ctx.user.id;
    match members::find(ctx.conn(), team.id, user).await? {
        Some(member) if member.left_at.is_none() => Ok(member),
        _ => user_error(format!(
            "You're not in {} yet. Type `/pulse join` in that channel to take part.",
            text::channel(team)
        )),
    }
}

/// The team's admin (or a workspace admin) may go on. A team whose admin erased their data
/// has none until a member claims it explicitly with `/pulse setup`.
pub fn require_admin(ctx: &Ctx<'_>, team: &Team) -> Outcome {
    if ctx.actor.workspace_admin {
        return Ok(());
    }
    match team.admin_user_id {
        Some(admin) if admin == ctx.user.id => Ok(()),
        None => user_error(format!(
            "{} has no admin right now. Run `/pulse setup` there to become its admin.",
            text::channel(team)
        )),
        Some(_) => user_error(format!(
            "Only the admin of {} can do that.",
            text::channel(team)
        )),
    }
}

pub async fn setup(ctx: &mut Ctx<'_>, args: SetupArgs) -> Outcome {
    let (ws, channel) = (ctx.workspace_id, ctx.channel.clone());
    let now = ctx.epoch();
    let existing = teams::find_by_channel(ctx.conn(), ws, &channel.id).await?;
    let mut settings = match &existing {
        Some(team) => {
            if team.admin_user_id.is_some() {
                require_admin(ctx, team)?;
            }
            team.settings()
        }
        None => defaults(ctx),
    };
    if let Some(day) = args.day {
        settings.checkin_day = weekday_short(day).into();
    }
    if let Some(time) = args.time {
        settings.checkin_time = time.format("%H:%M").to_string();
    }
    if let Some(tz) = args.tz {
        settings.tz = tz.name().into();
    }
    if let Some(day) = args.summary_day {
        settings.summary_day = weekday_short(day).into();
    }
    if let Some(time) = args.summary_time {
        settings.summary_time = time.format("%H:%M").to_string();
    }
    let user = ctx.user.id;
    let team = match existing {
        Some(team) => {
            teams::update_settings(ctx.conn(), team.id, &settings).await?;
            if team.admin_user_id.is_none() {
                sqlx::query("UPDATE teams SET admin_user_id = $1 WHERE id = $2")
                    .bind(user)
                    .bind(team.id)
                    .execute(ctx.conn())
                    .await?;
            }
            teams::get(ctx.conn(), team.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("team vanished"))?
        }
        None => {
            let team = teams::create_team(
                ctx.conn(),
                ws,
                &channel.id,
                &channel.name,
                user,
                &settings,
                now,
            )
            .await?;
            members::join(ctx.conn(), team.id, user, now).await?;
            team
        }
    };
    let (tz, schedule) = text::schedule(&team);
    let announcement = format!(
        "peerpulse is set up in {}: a one-click check-in every {} and a summary here every {} ({}). \
         Type `/pulse join` to take part. Answers are anonymous, and nothing is shown for fewer than {} people.",
        text::channel(&team),
        text::slot(&schedule.checkin),
        text::slot(&schedule.summary),
        tz.name(),
        team.min_group_size,
    );
    let key = format!("setup:{}:{}", team.id, ctx.event_key());
    let to = Destination::Channel {
        channel: team.channel.clone(),
    };
    enqueue(
        ctx.conn(),
        &key,
        ws,
        None,
        &to,
        &Message::text(announcement),
        now,
        now,
    )
    .await?;
    ctx.reply_text(format!(
        "Done. You're the admin of {} and a member too (`/pulse leave` if you only run it). \
         Change settings with `/pulse setup …` or `/pulse config`.",
        text::channel(&team)
    ))
    .await
}

fn defaults(ctx: &Ctx<'_>) -> TeamSettings {
    let d = &ctx.app.config.teams;
    let tz = ctx
        .user
        .tz
        .clone()
        .filter(|tz| parse_tz(tz).is_ok())
        .unwrap_or_else(|| d.timezone.clone());
    TeamSettings {
        tz,
        checkin_day: d.checkin_day.clone(),
        checkin_time: d.checkin_time.clone(),
        summary_day: d.summary_day.clone(),
        summary_time: d.summary_time.clone(),
        min_group_size: d.min_group_size,
        resources: d.resources.clone(),
        reminder_after: d.reminder_after.0.num_seconds(),
        nudge_fanout: d.nudge_fanout,
        streak_threshold: d.streak_threshold,
    }
}

pub async fn join(ctx: &mut Ctx<'_>) -> Outcome {
    let (ws, channel, user, now) = (
        ctx.workspace_id,
        ctx.channel.id.clone(),
        ctx.user.id,
        ctx.epoch(),
    );
    let Some(team) = teams::find_by_channel(ctx.conn(), ws, &channel).await? else {
        return user_error(text::NOT_A_TEAM);
    };
    let (_, was_active) = members::join(ctx.conn(), team.id, user, now).await?;
    if was_active {
        return user_error(format!("You're already in {}.", text::channel(&team)));
    }
    let (team_tz, schedule) = text::schedule(&team);
    let tz = text::member_tz(ctx.user.tz.as_deref(), team_tz);
    ctx.reply_text(format!(
        "You're in {}. Check-ins arrive {} your time ({}); `/pulse tz` changes that. \
         `/pulse pause` when you're away, `/pulse me` shows what I keep about you.",
        text::channel(&team),
        text::slot(&schedule.checkin),
        tz.name()
    ))
    .await
}

pub async fn leave(ctx: &mut Ctx<'_>) -> Outcome {
    let team = resolve_team(ctx).await?;
    let member = active_member(ctx, &team).await?;
    let now = ctx.epoch();
    members::leave(ctx.conn(), member.id, now).await?;
    ctx.reply_text(format!(
        "You've left {}. Your past answers stay in the team's totals, without your name.",
        text::channel(&team)
    ))
    .await
}

pub async fn config(ctx: &mut Ctx<'_>, change: ConfigChange) -> Outcome {
    let team = resolve_team(ctx).await?;
    let mut s = team.settings();
    let done = match change {
        ConfigChange::Show => return ctx.reply_text(describe(&team)).await,
        ConfigChange::MinGroup(n) => {
            s.min_group_size = n.get() as i64;
            format!("Minimum group size is now {}.", n.get())
        }
        ConfigChange::Resources(resources) => {
            s.resources = resources;
            "Resources text updated.".to_string()
        }
        ConfigChange::ReminderAfter(after) => {
            s.reminder_after = after.num_seconds();
            format!(
                "Reminders now go out {} after the check-in.",
                format_duration(after)
            )
        }
        ConfigChange::Fanout(n) => {
            s.nudge_fanout = n as i64;
            format!("An ask now reaches up to {n} teammates at a time.")
        }
        ConfigChange::Streak(n) => {
            s.streak_threshold = n as i64;
            format!("The personal check-on message now comes after {n} heavy rounds in a row.")
        }
    };
    require_admin(ctx, &team)?;
    teams::update_settings(ctx.conn(), team.id, &s).await?;
    ctx.reply_text(done).await
}

fn describe(team: &Team) -> String {
    let (tz, schedule) = text::schedule(team);
    let min = MinGroupSize::new(team.min_group_size).unwrap_or_default();
    format!(
        "Settings of {}: check-in {}, summary {} ({}); minimum group {}; reminder after {}; \
         asks reach {} teammates; check-on after {} heavy rounds.\nResources: {}",
        text::channel(team),
        text::slot(&schedule.checkin),
        text::slot(&schedule.summary),
        tz.name(),
        min.get(),
        format_duration(chrono::TimeDelta::seconds(team.reminder_after)),
        team.nudge_fanout,
        team.streak_threshold,
        team.resources
    )
}

/// Tells a team's admin privately that the bot cannot post in the team channel, and how to
/// fix it. At most once a day per team.
pub async fn tell_admin_channel_unavailable(
    conn: &mut crate::store::Conn,
    workspace_id: i64,
    channel: &str,
    reason: &str,
    now: i64,
) -> Outcome {
    let Some(team) = teams::find_by_channel(conn, workspace_id, channel).await? else {
        return Ok(());
    };
    let Some(admin) = team.admin_user_id else {
        return Ok(());
    };
    let Some(admin_ref) =
        sqlx::query_scalar::<_, String>("SELECT external_id FROM users WHERE id = $1")
            .bind(admin)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(());
    };
    let text = format!(
        "I can't post in {} ({reason}). If the channel still exists, invite me there (`/invite @peerpulse`); \
         if it was archived or renamed, run `/pulse setup` in the team's new channel.",
        text::channel(&team)
    );
    let to = Destination::Dm { user: admin_ref };
    let key = format!("channel-fix:{}:{}", team.id, now / 86_400);
    enqueue(
        conn,
        &key,
        workspace_id,
        Some(admin),
        &to,
        &Message::text(text),
        now,
        now,
    )
    .await
}

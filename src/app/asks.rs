//! Strain → ask → offer: asking teammates for help (anonymously or by name), nudging peers,
//! offers, and the timers that release, widen and expire an ask.

use chrono::TimeDelta;
use rand::Rng;
use rand::seq::SliceRandom;

use crate::domain::action::{Action, AskMode};
use crate::domain::message::{Destination, Message};
use crate::store::asks::{Ask, AskStep, NewAsk};
use crate::store::{Conn, asks, members, outbox, teams};

use super::teams::{active_member, resolve_team};
use super::{Ctx, Outcome, enqueue, text, user_error};

/// `/pulse ask`: the same three choices a heavy answer offers.
pub async fn ask_command(ctx: &mut Ctx<'_>) -> Outcome {
    let team = resolve_team(ctx).await?;
    active_member(ctx, &team).await?;
    let message = Message::text(format!(
        "Want me to ask your teammates in {} if someone can take something off your plate?",
        text::channel(&team)
    ));
    let message = ask_buttons(message, team.id, AskMode::Anonymous);
    ctx.reply(message).await
}

/// Adds [Ask anonymously] (or the confirmed variant after the small-team warning),
/// [Ask with my name] and [Not now].
pub fn ask_buttons(message: Message, team: i64, anonymous: AskMode) -> Message {
    let label = match anonymous {
        AskMode::AnonymousConfirmed => "Ask anyway, without my name",
        _ => "Ask anonymously",
    };
    message
        .with_button(
            label,
            Action::Ask {
                team,
                mode: anonymous,
            },
        )
        .with_button(
            "Ask with my name",
            Action::Ask {
                team,
                mode: AskMode::Named,
            },
        )
        .with_button(
            "Not now",
            Action::Ask {
                team,
                mode: AskMode::NotNow,
            },
        )
}

/// A click on [Ask anonymously], [Ask with my name] or [Not now].
pub async fn ask_action(ctx: &mut Ctx<'_>, team_id: i64, mode: AskMode) -> Outcome {
    let Some(team) = teams::get(ctx.conn(), team_id).await? else {
        return user_error(text::INVALID_ACTION);
    };
    let member = active_member(ctx, &team).await?;
    if mode == AskMode::NotNow {
        return ctx
            .reply_text("Okay. If that changes, `/pulse ask` is there any time.")
            .await;
    }
    if asks::open_by(ctx.conn(), member.id).await?.is_some() {
        return user_error(
            "You already have an open ask. I'll tell you privately as soon as someone offers.",
        );
    }
    let size = members::count_active(ctx.conn(), team.id).await?;
    if mode == AskMode::Anonymous && size < team.min_group_size {
        let message = Message::text(format!(
            "Before I send anything: {} has {size} member(s), fewer than the minimum group of {}, \
             so teammates may guess who is asking. Send it anyway?",
            text::channel(&team),
            team.min_group_size
        ));
        let message = ask_buttons(message, team.id, AskMode::AnonymousConfirmed);
        return ctx.reply(message).await;
    }
    let named = mode == AskMode::Named;
    let config = &ctx.app.config.asks;
    let now = ctx.now;
    let release_at = if named {
        now
    } else {
        let (lo, hi) = (
            config.anonymous_delay_min.0.num_seconds(),
            config.anonymous_delay_max.0.num_seconds(),
        );
        now + TimeDelta::seconds(rand::rng().random_range(lo..=hi.max(lo)))
    };
    let new = NewAsk {
        team_id: team.id,
        asker_member_id: member.id,
        named,
        now: now.timestamp(),
        release_at: release_at.timestamp(),
        widen_at: (release_at + config.widen_after.0).timestamp(),
        expires_at: (now + config.expire_after.0).timestamp(),
    };
    let ask_id = asks::create(ctx.conn(), &new).await?;
    let fanout = team.nudge_fanout;
    if named {
        let ask = asks::get(ctx.conn(), ask_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("ask vanished"))?;
        let reached = release_ask(ctx.conn(), &ask, now.timestamp()).await?;
        if reached == 0 {
            return Ok(());
        }
        ctx.reply_text(format!(
            "Okay, I've asked {reached} teammate(s) in {}, with your name. I'll tell you privately who offers.",
            text::channel(&team)
        ))
        .await
    } else {
        ctx.reply_text(format!(
            "Okay. I'll ask up to {fanout} teammates in {} without your name, in a few minutes so the \
             timing doesn't point to you. I'll tell you privately who offers.",
            text::channel(&team)
        ))
        .await
    }
}

/// Sends the first nudges of an ask (claimed once). Returns how many peers were reached.
#[tracing::instrument(skip_all, fields(ask = ask.id))]
pub async fn release_ask(conn: &mut Conn, ask: &Ask, now: i64) -> Outcome<u32> {
    if !asks::claim(conn, ask.id, AskStep::Release, now).await? {
        return Ok(0);
    }
    let reached = nudge_peers(conn, ask, now, false).await?;
    if reached == 0 {
        tell_asker(
            conn,
            ask,
            "I couldn't find a teammate to ask right now: everyone else is paused, stretched themselves, \
             or you're the only member. Your ask stays open for a week in case that changes.",
            &format!("ask-empty:{}", ask.id),
            now,
        )
        .await?;
    }
    Ok(reached)
}

/// The one wider nudge for an ask with no offer after a day (claimed once).
pub async fn widen_ask(conn: &mut Conn, ask: &Ask, now: i64) -> Outcome<u32> {
    if !asks::claim(conn, ask.id, AskStep::Widen, now).await? {
        return Ok(0);
    }
    nudge_peers(conn, ask, now, true).await
}

/// Closes an ask that ran out of time (claimed once).
pub async fn expire_ask(conn: &mut Conn, ask: &Ask, now: i64) -> Outcome<bool> {
    if !asks::claim(conn, ask.id, AskStep::Close, now).await? {
        return Ok(false);
    }
    tell_asker(
        conn,
        ask,
        "Your ask for help has expired. If you still need a hand, `/pulse ask` again any time.",
        &format!("ask-expired:{}", ask.id),
        now,
    )
    .await?;
    Ok(true)
}

/// Nudges up to the team's fan-out of peers not nudged yet: those who declared capacity
/// first, then the others in random order; never the asker, paused members or members on a
/// strain streak.
async fn nudge_peers(conn: &mut Conn, ask: &Ask, now: i64, wider: bool) -> Outcome<u32> {
    let team = teams::get(conn, ask.team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("ask without team"))?;
    let already = asks::nudged(conn, ask.id).await?;
    let mut peers: Vec<_> = members::roster(conn, team.id, now)
        .await?
        .into_iter()
        .filter(|m| {
            Some(m.member_id) != ask.asker_member_id
                && m.streak == 0
                && !already.contains(&m.member_id)
        })
        .collect();
    peers.shuffle(&mut rand::rng());
    peers.sort_by_key(|m| !m.capacity);
    peers.truncate(team.nudge_fanout.max(1) as usize);
    let who = match (ask.named, ask.asker_member_id) {
        (true, Some(asker)) => members::roster_entry(conn, asker)
            .await?
            .map(|m| format!("@{}", m.display_name))
            .unwrap_or_else(|| "A teammate".into()),
        _ => "A teammate".into(),
    };
    let lead = if wider {
        "Still looking for a hand: "
    } else {
        ""
    };
    let text = format!(
        "{lead}{who} in {} is stretched this week and could use a hand. If you have room, you can \
         offer to take something on.",
        text::channel(&team)
    );
    let message =
        Message::text(text).with_button("I can take something", Action::Offer { ask: ask.id });
    let mut reached = 0;
    for peer in peers {
        if !asks::record_nudge(conn, ask.id, peer.member_id).await? {
            continue;
        }
        let to = Destination::Dm {
            user: peer.external_id.clone(),
        };
        let key = format!("nudge:{}:{}", ask.id, peer.member_id);
        enqueue(
            conn,
            &key,
            team.workspace_id,
            Some(peer.user_id),
            &to,
            &message,
            now,
            now,
        )
        .await?;
        reached += 1;
    }
    Ok(reached)
}

async fn tell_asker(conn: &mut Conn, ask: &Ask, text: &str, key: &str, now: i64) -> Outcome {
    let Some(asker) = ask.asker_member_id else {
        return Ok(());
    };
    let Some(entry) = members::roster_entry(conn, asker).await? else {
        return Ok(());
    };
    let team = teams::get(conn, ask.team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("ask without team"))?;
    let to = Destination::Dm {
        user: entry.external_id,
    };
    enqueue(
        conn,
        key,
        team.workspace_id,
        Some(entry.user_id),
        &to,
        &Message::text(text),
        now,
        now,
    )
    .await
}

/// A click on [I can take something].
pub async fn offer(ctx: &mut Ctx<'_>, ask_id: i64) -> Outcome {
    let Some(ask) = asks::get(ctx.conn(), ask_id).await? else {
        return user_error(text::INVALID_ACTION);
    };
    let team = teams::get(ctx.conn(), ask.team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("ask without team"))?;
    let member = active_member(ctx, &team).await?;
    if ask.asker_member_id == Some(member.id) {
        return user_error("That's your own ask; I'll tell you when a teammate offers.");
    }
    if !asks::nudged(ctx.conn(), ask.id).await?.contains(&member.id) {
        return user_error("That button was meant for someone else, so I didn't record anything.");
    }
    if ask.closed_at.is_some() {
        return user_error("That ask is already sorted or has expired. Thank you for offering!");
    }
    let now = ctx.epoch();
    if !asks::record_offer(ctx.conn(), ask.id, member.id, now).await? {
        return user_error("You've already offered on this one. Thank you!");
    }
    let offered = Message::text(format!(
        "@{} from {} can take something off your plate. Reach out to them directly.",
        ctx.user.display_name,
        text::channel(&team)
    ))
    .with_button("Sorted, thanks", Action::CloseAsk { ask: ask.id });
    if let Some(asker) = ask.asker_member_id
        && let Some(entry) = members::roster_entry(ctx.conn(), asker).await?
    {
        let to = Destination::Dm {
            user: entry.external_id,
        };
        let key = format!("offer:{}:{}", ask.id, member.id);
        enqueue(
            ctx.conn(),
            &key,
            team.workspace_id,
            Some(entry.user_id),
            &to,
            &offered,
            now,
            now,
        )
        .await?;
    }
    let thanks = match (ask.named, ask.asker_member_id) {
        (true, Some(asker)) => {
            let name = members::roster_entry(ctx.conn(), asker)
                .await?
                .map(|m| m.display_name)
                .unwrap_or_default();
            format!("Thank you! I've told @{name}; you can reach out to them directly too.")
        }
        _ => "Thank you! I've let them know privately; they'll reach out to you.".into(),
    };
    ctx.reply_text(thanks).await
}

/// A click on [Sorted, thanks] by the asker.
pub async fn close_ask(ctx: &mut Ctx<'_>, ask_id: i64) -> Outcome {
    let Some(ask) = asks::get(ctx.conn(), ask_id).await? else {
        return user_error(text::INVALID_ACTION);
    };
    let Some(asker) = ask.asker_member_id else {
        return user_error(text::INVALID_ACTION);
    };
    let mine = members::get(ctx.conn(), asker)
        .await?
        .is_some_and(|m| m.user_id == ctx.user.id);
    if !mine {
        return user_error("Only the person who asked can close an ask.");
    }
    let now = ctx.epoch();
    if asks::claim(ctx.conn(), ask.id, AskStep::Close, now).await? {
        outbox::drop_pending(ctx.conn(), &format!("nudge:{}:", ask.id)).await?;
    }
    ctx.reply_text("Glad it's sorted. Take care of yourself.")
        .await
}

//! Answer clicks that arrive together, recorded for the whole group with a few multi-row
//! statements: the same checks, replies and privacy as one click handled on its own
//! (`checkin::answer_prompt`), at a fraction of the round trips.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::clock::epoch;
use crate::domain::LoadScore;
use crate::domain::action::Action;
use crate::domain::message::{Destination, Message};
use crate::store::rounds::NewAnswer;
use crate::store::teams::Team;
use crate::store::users::{Sighting, User};
use crate::store::{Conn, members, rounds, teams, users};

use super::checkin::{self, already_answered};
use super::{EventKind, Inbound, text};

/// A click on a load button, from a workspace already known.
pub(super) struct Click<'a> {
    /// Its place in the group of events it arrived with.
    pub index: usize,
    pub event: &'a Inbound,
    pub workspace_id: i64,
    prompt: i64,
    score: LoadScore,
}

impl<'a> Click<'a> {
    /// The event as a click on a load button, if it is one.
    pub fn of(index: usize, event: &'a Inbound, workspace_id: i64) -> Option<Click<'a>> {
        match event.kind {
            EventKind::Action(Action::Answer { prompt, score }) => Some(Click {
                index,
                event,
                workspace_id,
                prompt,
                score,
            }),
            _ => None,
        }
    }

    /// Who clicked: (workspace id, platform user id).
    fn person(&self) -> (i64, String) {
        (self.workspace_id, self.event.actor.user_id.clone())
    }
}

enum Verdict<'t> {
    Record {
        team: &'t Team,
        round: i64,
        member: i64,
    },
    Refuse(String),
}

/// Records the clicks inside the caller's transaction, replying to each privately. A refused
/// click (someone else's prompt, a closed round, a second answer…) is answered with the
/// reason and changes nothing; a repeat of an event already seen is ignored. An error means
/// the caller must roll back everything this wrote.
#[tracing::instrument(skip_all, fields(clicks = clicks.len()))]
pub(super) async fn record(
    conn: &mut Conn,
    clicks: &[Click<'_>],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let t = epoch(now);
    let seen: Vec<Option<String>> = clicks
        .iter()
        .map(|c| {
            c.event
                .key
                .as_ref()
                .map(|key| format!("{}:{key}", c.event.workspace.platform))
        })
        .collect();
    let keys: Vec<&str> = seen.iter().flatten().map(String::as_str).collect();
    let mut fresh = users::first_sightings(conn, &keys, t).await?;
    // A key seen before, or earlier in this group, is a repeat.
    let live: Vec<&Click> = clicks
        .iter()
        .zip(&seen)
        .filter(|(_, key)| key.as_ref().is_none_or(|key| fresh.remove(key)))
        .map(|(click, _)| click)
        .collect();
    if live.len() < clicks.len() {
        tracing::debug!(
            repeats = clicks.len() - live.len(),
            "repeated events ignored"
        );
    }

    let people = people(conn, &live, t).await?;
    let prompt_ids: Vec<i64> = live.iter().map(|c| c.prompt).collect();
    let prompted = rounds::prompted_many(conn, &prompt_ids).await?;
    let mut team_by_id: HashMap<i64, Team> = HashMap::new();
    for (member, _) in prompted.values() {
        if !team_by_id.contains_key(&member.team_id) {
            let team = teams::get(conn, member.team_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("member without team"))?;
            team_by_id.insert(team.id, team);
        }
    }

    let mut taken = HashSet::new();
    let mut verdicts: Vec<Verdict> = live
        .iter()
        .map(|click| {
            let user = &people[&click.person()];
            let Some((member, round)) = prompted.get(&click.prompt) else {
                return Verdict::Refuse(text::INVALID_ACTION.into());
            };
            let team = &team_by_id[&member.team_id];
            if member.user_id != user.id {
                Verdict::Refuse(checkin::WRONG_PERSON.into())
            } else if member.left_at.is_some() {
                Verdict::Refuse(checkin::left_team(team))
            } else if checkin::is_closed(round, t) {
                Verdict::Refuse(checkin::round_closed(team, now))
            } else if !taken.insert((round.id, member.id)) {
                Verdict::Refuse(already_answered())
            } else {
                Verdict::Record {
                    team,
                    round: round.id,
                    member: member.id,
                }
            }
        })
        .collect();

    let pairs: Vec<(i64, i64)> = verdicts
        .iter()
        .filter_map(|v| match v {
            Verdict::Record { round, member, .. } => Some((*round, *member)),
            Verdict::Refuse(_) => None,
        })
        .collect();
    let recorded = rounds::participate_many(conn, &pairs).await?;
    for verdict in &mut verdicts {
        if let Verdict::Record { round, member, .. } = verdict
            && !recorded.contains(&(*round, *member))
        {
            *verdict = Verdict::Refuse(already_answered());
        }
    }
    let mut answers = Vec::with_capacity(recorded.len());
    let mut strain = Vec::with_capacity(recorded.len());
    for (click, verdict) in live.iter().zip(&verdicts) {
        if let Verdict::Record { round, member, .. } = verdict {
            answers.push(NewAnswer {
                round_id: *round,
                score: click.score.value(),
                note: None,
            });
            strain.push((*member, click.score.is_strain()));
        }
    }
    rounds::insert_answers(conn, &answers).await?;
    let streaks = members::record_streaks(conn, &strain).await?;
    tracing::debug!(answers = answers.len(), "answers recorded together");

    let mut messages = super::Outgoing::default();
    for (click, verdict) in live.iter().zip(&verdicts) {
        let user = &people[&click.person()];
        let event = click.event;
        let (ws, uid) = (click.workspace_id, user.id);
        let reply_key = match &event.key {
            Some(key) => key.clone(),
            None => {
                let n: u64 = rand::rng().random();
                format!("{t}-{n:016x}")
            }
        };
        let private = Destination::Private {
            user: user.external_id.clone(),
            channel: event.channel.id.clone(),
        };
        let team = match verdict {
            Verdict::Refuse(reason) => {
                let key = format!("reply:{reply_key}-error:1");
                messages.add(key, ws, uid, &private, &Message::text(reason))?;
                continue;
            }
            Verdict::Record {
                team,
                round,
                member,
            } => {
                let key = format!("reply:{reply_key}:1");
                messages.add(key, ws, uid, &private, &checkin::thanks(team, click.score))?;
                let streak = streaks.get(member).copied().unwrap_or(0);
                if let Some(message) = checkin::streak_message(team, streak) {
                    let to = Destination::Dm {
                        user: user.external_id.clone(),
                    };
                    messages.add(format!("streak:{member}:{round}"), ws, uid, &to, &message)?;
                }
                team
            }
        };
        if let Some(origin) = &event.origin {
            let to = Destination::Replace {
                user: user.external_id.clone(),
                channel: origin.channel.clone(),
                message: origin.message.clone(),
            };
            let key = format!("replace:{}", click.prompt);
            messages.add(key, ws, uid, &to, &checkin::answered(team))?;
        }
    }
    messages.enqueue(conn, t).await
}

/// The people behind the clicks, created on first sight (with the platform's time zone
/// until they set their own), by (workspace, platform id).
async fn people(
    conn: &mut Conn,
    clicks: &[&Click<'_>],
    now: i64,
) -> anyhow::Result<HashMap<(i64, String), User>> {
    let mut once = HashSet::new();
    let sightings: Vec<Sighting> = clicks
        .iter()
        .filter(|c| once.insert(c.person()))
        .map(|c| Sighting {
            workspace_id: c.workspace_id,
            external_id: &c.event.actor.user_id,
            display_name: &c.event.actor.name,
            profile_name: c.event.actor.profile_name,
        })
        .collect();
    let mut people: HashMap<(i64, String), User> = users::upsert_users(conn, &sightings, now)
        .await?
        .into_iter()
        .map(|user| ((user.workspace_id, user.external_id.clone()), user))
        .collect();
    for click in clicks {
        let user = people
            .get_mut(&click.person())
            .ok_or_else(|| anyhow::anyhow!("person missing after upsert"))?;
        if user.tz.is_none()
            && let Some(tz) = click.event.actor.tz.as_deref()
            && crate::domain::schedule::parse_tz(tz).is_ok()
        {
            users::set_tz(conn, user.id, Some(tz)).await?;
            user.tz = Some(tz.to_string());
        }
    }
    Ok(people)
}

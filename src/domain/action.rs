//! Action ids carried by buttons. They come back from platforms as untrusted input, so they are
//! parsed like any other input; the use case then checks that the clicking member is entitled.

use std::fmt;
use std::str::FromStr;

use crate::domain::LoadScore;

/// A button press. `Debug` hides the score of an answer, so a logged action never shows it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Answer the check-in prompt `prompt` with a load score.
    Answer { prompt: i64, score: LoadScore },
    /// Answer prompt `prompt` with a note (Slack opens a form; elsewhere, a hint).
    Note { prompt: i64 },
    /// Ask teammates of `team` for help.
    Ask { team: i64, mode: AskMode },
    /// Offer to take something for ask `ask`.
    Offer { ask: i64 },
    /// The asker closes ask `ask`.
    CloseAsk { ask: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskMode {
    Anonymous,
    /// Anonymous, after the small-team warning was shown.
    AnonymousConfirmed,
    Named,
    NotNow,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("that button is not one of mine, or it has expired")]
pub struct InvalidAction;

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Answer { prompt, .. } => write!(f, "Answer {{ prompt: {prompt}, .. }}"),
            Action::Note { prompt } => write!(f, "Note {{ prompt: {prompt} }}"),
            Action::Ask { team, mode } => write!(f, "Ask {{ team: {team}, mode: {mode:?} }}"),
            Action::Offer { ask } => write!(f, "Offer {{ ask: {ask} }}"),
            Action::CloseAsk { ask } => write!(f, "CloseAsk {{ ask: {ask} }}"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Answer { prompt, score } => write!(f, "answer:{prompt}:{score}"),
            Action::Note { prompt } => write!(f, "note:{prompt}"),
            Action::Ask { team, mode } => {
                let mode = match mode {
                    AskMode::Anonymous => "anon",
                    AskMode::AnonymousConfirmed => "anon-ok",
                    AskMode::Named => "named",
                    AskMode::NotNow => "no",
                };
                write!(f, "ask:{team}:{mode}")
            }
            Action::Offer { ask } => write!(f, "offer:{ask}"),
            Action::CloseAsk { ask } => write!(f, "close-ask:{ask}"),
        }
    }
}

fn id(part: Option<&str>) -> Result<i64, InvalidAction> {
    let part = part.ok_or(InvalidAction)?;
    if part.is_empty() || part.len() > 18 || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidAction);
    }
    part.parse().map_err(|_| InvalidAction)
}

impl FromStr for Action {
    type Err = InvalidAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > 64 {
            return Err(InvalidAction);
        }
        let mut parts = s.split(':');
        let kind = parts.next().ok_or(InvalidAction)?;
        let action = match kind {
            "answer" => {
                let prompt = id(parts.next())?;
                let score = parts
                    .next()
                    .ok_or(InvalidAction)?
                    .parse()
                    .map_err(|_| InvalidAction)?;
                Action::Answer { prompt, score }
            }
            "ask" => {
                let team = id(parts.next())?;
                let mode = match parts.next() {
                    Some("anon") => AskMode::Anonymous,
                    Some("anon-ok") => AskMode::AnonymousConfirmed,
                    Some("named") => AskMode::Named,
                    Some("no") => AskMode::NotNow,
                    _ => return Err(InvalidAction),
                };
                Action::Ask { team, mode }
            }
            "note" => Action::Note {
                prompt: id(parts.next())?,
            },
            "offer" => Action::Offer {
                ask: id(parts.next())?,
            },
            "close-ask" => Action::CloseAsk {
                ask: id(parts.next())?,
            },
            _ => return Err(InvalidAction),
        };
        if parts.next().is_some() {
            return Err(InvalidAction);
        }
        Ok(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_as_written() {
        let actions = [
            Action::Answer {
                prompt: 12,
                score: LoadScore::try_from(4).unwrap(),
            },
            Action::Ask {
                team: 3,
                mode: AskMode::AnonymousConfirmed,
            },
            Action::Note { prompt: 12 },
            Action::Offer { ask: 9 },
            Action::CloseAsk { ask: 9 },
        ];
        for action in actions {
            assert_eq!(action.to_string().parse::<Action>(), Ok(action));
        }
    }

    #[test]
    fn forged_action_ids_are_rejected() {
        for bad in [
            "",
            "answer",
            "answer:1",
            "answer:1:6",
            "answer:-1:3",
            "answer:1:3:extra",
            "ask:1:loud",
            "offer:x",
            "offer:99999999999999999999",
            "drop-table:1",
        ] {
            assert!(bad.parse::<Action>().is_err(), "{bad}");
        }
    }
}

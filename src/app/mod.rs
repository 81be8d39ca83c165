//! Use cases: each inbound event is handled against the store in one transaction, and every
//! message it causes is written to the outbox in that same transaction.

mod asks;
mod checkin;
mod clicks;
mod people;
mod rounds;
mod teams;
mod text;
mod writer;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, epoch};
use crate::config::Config;
use crate::domain::action::Action;
use crate::domain::command::{Command, USAGE, UsageError};
use crate::domain::message::{Destination, Message};
use crate::store::{self, Conn, Db};

pub use asks::{expire_ask, release_ask, widen_ask};
pub use checkin::{prompt_members, remind_prompt};
pub use rounds::close_round;
pub use teams::tell_admin_channel_unavailable;
pub use text::{member_tz, schedule as team_schedule};
pub use writer::handle;

/// The running bot's shared state.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    writer: Arc<writer::Writer>,
}

impl App {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: Arc<Config>) -> Self {
        App {
            db,
            clock,
            config,
            writer: Arc::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// Which workspace, on which platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub platform: String,
    pub external_id: String,
}

/// A channel, on any platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef {
    pub id: String,
    pub name: String,
}

/// The person an event comes from, with what the platform says about them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    pub user_id: String,
    pub name: String,
    /// The person's time zone on the platform, used until they set their own.
    pub tz: Option<String>,
    /// A workspace admin may administer any team in the workspace.
    pub workspace_admin: bool,
    /// Whether `name` comes from the person's profile (and replaces the stored one).
    pub profile_name: bool,
}

/// The bot message an action was clicked on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub channel: String,
    pub message: String,
}

/// A typed inbound event, parsed at the platform edge.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub workspace: Workspace,
    pub actor: Actor,
    pub channel: ChannelRef,
    /// The platform's event or interaction id; repeats of a seen key are ignored.
    pub key: Option<String>,
    /// For a click: the message clicked on, which the answer may replace.
    pub origin: Option<Origin>,
    pub kind: EventKind,
}

#[derive(Debug, Clone)]
pub enum EventKind {
    Command(Command),
    BadCommand(UsageError),
    Action(Action),
    BadAction,
    /// A prompt answered through a form that also took a note.
    AnswerWithNote {
        prompt: i64,
        answer: crate::domain::command::CheckinAnswer,
    },
}

/// Why a use case did not go through.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A sentence for the person; nothing was changed.
    #[error("{0}")]
    User(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Internal(e.into())
    }
}

impl Failure {
    /// The failure as an error for callers outside a chat exchange (the scheduler).
    pub fn into_error(self) -> anyhow::Error {
        match self {
            Failure::User(text) => anyhow::anyhow!(text),
            Failure::Internal(error) => error,
        }
    }
}

pub type Outcome<T = ()> = Result<T, Failure>;

pub fn user_error<T>(text: impl Into<String>) -> Outcome<T> {
    Err(Failure::User(text.into()))
}

pub const INTERNAL_ERROR: &str =
    "Something went wrong on our side. Nothing was changed; please try again in a moment.";

/// One event being handled: its transaction, its actor and where replies go.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub tx: &'a mut Conn,
    pub now: DateTime<Utc>,
    pub workspace_id: i64,
    pub user: store::users::User,
    pub channel: ChannelRef,
    pub actor: Actor,
    pub origin: Option<Origin>,
    reply_key: String,
    replies: u32,
}

impl Ctx<'_> {
    pub fn conn(&mut self) -> &mut Conn {
        self.tx
    }

    pub fn epoch(&self) -> i64 {
        epoch(self.now)
    }

    /// Marks the actor as erased: replies from here on are not linked to a stored person.
    pub fn forget_actor(&mut self) {
        self.user.id = 0;
    }

    /// A key unique to this event, for dedupe keys of the messages it causes.
    pub fn event_key(&self) -> &str {
        &self.reply_key
    }

    /// A reply only the actor sees, in the channel they wrote in.
    pub async fn reply(&mut self, message: Message) -> Outcome {
        self.replies += 1;
        let key = format!("reply:{}:{}", self.reply_key, self.replies);
        let to = Destination::Private {
            user: self.user.external_id.clone(),
            channel: self.channel.id.clone(),
        };
        let (ws, now) = (self.workspace_id, self.epoch());
        let uid = (self.user.id > 0).then_some(self.user.id);
        enqueue(self.tx, &key, ws, uid, &to, &message, now, now).await
    }

    pub async fn reply_text(&mut self, text: impl Into<String>) -> Outcome {
        self.reply(Message::text(text)).await
    }
}

/// Writes one outgoing message to the outbox (inside the caller's transaction).
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    conn: &mut Conn,
    key: &str,
    workspace_id: i64,
    user_id: Option<i64>,
    to: &Destination,
    message: &Message,
    now: i64,
    not_before: i64,
) -> Outcome {
    let destination = serde_json::to_string(to).map_err(anyhow::Error::from)?;
    let body = serde_json::to_string(message).map_err(anyhow::Error::from)?;
    store::outbox::enqueue(
        conn,
        &store::outbox::NewMessage {
            dedupe_key: key,
            workspace_id,
            user_id,
            destination: &destination,
            body: &body,
            now,
            not_before,
        },
    )
    .await?;
    Ok(())
}

/// Outgoing messages gathered while handling many items, written with one statement.
#[derive(Default)]
pub(crate) struct Outgoing {
    /// (dedupe key, workspace id, person id, destination JSON, body JSON)
    rows: Vec<(String, i64, i64, String, String)>,
}

impl Outgoing {
    pub fn add(
        &mut self,
        key: String,
        workspace_id: i64,
        user_id: i64,
        to: &Destination,
        message: &Message,
    ) -> anyhow::Result<()> {
        self.rows.push((
            key,
            workspace_id,
            user_id,
            serde_json::to_string(to)?,
            serde_json::to_string(message)?,
        ));
        Ok(())
    }

    /// Queues everything gathered, due at `now`.
    pub async fn enqueue(self, conn: &mut Conn, now: i64) -> anyhow::Result<()> {
        let messages: Vec<_> = self
            .rows
            .iter()
            .map(
                |(key, workspace, user, to, body)| store::outbox::NewMessage {
                    dedupe_key: key,
                    workspace_id: *workspace,
                    user_id: Some(*user),
                    destination: to,
                    body,
                    now,
                    not_before: now,
                },
            )
            .collect();
        store::outbox::enqueue_many(conn, &messages).await?;
        Ok(())
    }
}

pub(crate) async fn dispatch(ctx: &mut Ctx<'_>, kind: EventKind) -> Outcome {
    match kind {
        EventKind::BadCommand(error) => user_error(error.reply_text()),
        EventKind::BadAction => user_error(text::INVALID_ACTION),
        EventKind::AnswerWithNote { prompt, answer } => {
            let note = answer.note.map(|n| n.into_string());
            checkin::answer_prompt(ctx, prompt, answer.score, note).await
        }
        EventKind::Action(action) => match action {
            Action::Answer { prompt, score } => {
                checkin::answer_prompt(ctx, prompt, score, None).await
            }
            Action::Note { .. } => ctx.reply_text(text::NOTE_HINT).await,
            Action::Ask { team, mode } => asks::ask_action(ctx, team, mode).await,
            Action::Offer { ask } => asks::offer(ctx, ask).await,
            Action::CloseAsk { ask } => asks::close_ask(ctx, ask).await,
        },
        EventKind::Command(command) => match command {
            Command::Setup(args) => teams::setup(ctx, args).await,
            Command::Join => teams::join(ctx).await,
            Command::Leave => teams::leave(ctx).await,
            Command::Config(change) => teams::config(ctx, change).await,
            Command::Start => rounds::start(ctx).await,
            Command::Close => rounds::close(ctx).await,
            Command::Summary => rounds::summary(ctx).await,
            Command::Checkin(answer) => checkin::checkin(ctx, answer).await,
            Command::Ask => asks::ask_command(ctx).await,
            Command::Capacity(on) => people::capacity(ctx, on).await,
            Command::Pause(spec) => people::pause(ctx, spec).await,
            Command::Resume => people::resume(ctx).await,
            Command::Tz(tz) => people::tz(ctx, tz).await,
            Command::Me => people::me(ctx).await,
            Command::ForgetMe => people::forget_me(ctx).await,
            Command::Help => ctx.reply_text(format!("{}\n{USAGE}", text::HELP)).await,
        },
    }
}

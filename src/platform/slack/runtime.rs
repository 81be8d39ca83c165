//! The Slack side of a running bot: settings from the environment, the API client and
//! tokens, and the handlers that HTTP and Socket Mode share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::app::{self, App, EventKind, Inbound};
use crate::domain::command::Command;
use crate::secrets::SecretKey;
use crate::store;

use super::api::{DEFAULT_API_URL, SlackApi, UserInfo};
use super::chat::{SlackChat, Tokens};
use super::inbound::{self, Event, Malformed, PLATFORM};

/// Slack settings, all from the environment (they are secrets or endpoints).
#[derive(Clone, Default)]
pub struct SlackSettings {
    pub signing_secret: Option<String>,
    pub bot_token: Option<String>,
    pub app_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub api_url: String,
}

impl std::fmt::Debug for SlackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSettings")
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| ".."),
            )
            .field("bot_token", &self.bot_token.as_ref().map(|_| ".."))
            .field("app_token", &self.app_token.as_ref().map(|_| ".."))
            .field("client_id", &self.client_id)
            .field("api_url", &self.api_url)
            .finish()
    }
}

impl SlackSettings {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        SlackSettings {
            signing_secret: var("SLACK_SIGNING_SECRET"),
            bot_token: var("SLACK_BOT_TOKEN"),
            app_token: var("SLACK_APP_TOKEN"),
            client_id: var("SLACK_CLIENT_ID"),
            client_secret: var("SLACK_CLIENT_SECRET"),
            api_url: var("SLACK_API_URL").unwrap_or_else(|| DEFAULT_API_URL.into()),
        }
    }

    /// Whether Slack is configured at all: a way in (signing secret or app token) and a way
    /// out (a bot token or OAuth installs).
    pub fn enabled(&self) -> bool {
        (self.signing_secret.is_some() || self.app_token.is_some())
            && (self.bot_token.is_some() || self.oauth_enabled())
    }

    pub fn oauth_enabled(&self) -> bool {
        self.client_id.is_some() && self.client_secret.is_some()
    }
}

pub struct Slack {
    pub settings: SlackSettings,
    pub api: Arc<SlackApi>,
    pub tokens: Arc<Tokens>,
    pub app: App,
    profiles: Mutex<HashMap<(i64, String), (UserInfo, Instant)>>,
}

const PROFILE_TTL: Duration = Duration::from_secs(600);

impl Slack {
    pub fn new(app: App, settings: SlackSettings, key: SecretKey) -> Self {
        let api = Arc::new(SlackApi::new(&settings.api_url));
        let tokens = Arc::new(Tokens::new(app.db.clone(), settings.bot_token.clone(), key));
        Slack {
            settings,
            api,
            tokens,
            app,
            profiles: Mutex::default(),
        }
    }

    pub fn chat(&self) -> SlackChat {
        SlackChat {
            api: self.api.clone(),
            tokens: self.tokens.clone(),
            db: self.app.db.clone(),
        }
    }

    /// A slash command, from HTTP or Socket Mode.
    pub async fn on_command(&self, fields: &Value) -> anyhow::Result<Result<(), Malformed>> {
        let mut event = match inbound::command(fields) {
            Ok(event) => event,
            Err(malformed) => return Ok(Err(malformed)),
        };
        if matches!(
            event.kind,
            EventKind::Command(
                Command::Setup(_)
                    | Command::Join
                    | Command::Start
                    | Command::Close
                    | Command::Config(_)
            )
        ) {
            self.enrich(&mut event).await;
        }
        app::handle(&self.app, event).await?;
        Ok(Ok(()))
    }

    /// An interaction payload, from HTTP or Socket Mode.
    pub async fn on_interaction(&self, payload: &Value) -> anyhow::Result<Result<(), Malformed>> {
        if let Some((prompt, trigger, channel)) = inbound::note_request(payload) {
            self.open_note_form(payload, prompt, &trigger, &channel)
                .await;
            return Ok(Ok(()));
        }
        match inbound::note_submission(payload) {
            Ok(Some(event)) => {
                app::handle(&self.app, event).await?;
                return Ok(Ok(()));
            }
            Ok(None) => {}
            Err(malformed) => return Ok(Err(malformed)),
        }
        match inbound::interaction(payload) {
            Ok(Some(event)) => app::handle(&self.app, event).await?,
            Ok(None) => {}
            Err(malformed) => return Ok(Err(malformed)),
        }
        Ok(Ok(()))
    }

    /// An Events API body; returns the challenge for `url_verification`.
    pub async fn on_event(
        &self,
        body: &Value,
    ) -> anyhow::Result<Result<Option<String>, Malformed>> {
        match inbound::event(body) {
            Ok(Event::Challenge(challenge)) => Ok(Ok(Some(challenge))),
            Ok(Event::Uninstalled { team_id, event_id }) => {
                self.uninstall(&team_id, &event_id).await?;
                Ok(Ok(None))
            }
            Ok(Event::Ignored) => Ok(Ok(None)),
            Err(malformed) => Ok(Err(malformed)),
        }
    }

    /// Opens the note form; it must happen within the trigger's 3 seconds, so it is done here
    /// rather than through the outbox.
    async fn open_note_form(&self, payload: &Value, prompt: i64, trigger: &str, channel: &str) {
        let team = payload
            .pointer("/team/id")
            .or_else(|| payload.pointer("/user/team_id"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(token) = self.token_for_team(team).await else {
            return;
        };
        let view = inbound::note_view(prompt, channel);
        if let Err(error) = self.api.views_open(&token, trigger, &view).await {
            tracing::warn!(%error, "could not open the note form");
        }
    }

    async fn token_for_team(&self, team: &str) -> Option<String> {
        let workspace = match self.app.db.acquire().await {
            Ok(mut conn) => store::users::find_workspace(&mut conn, PLATFORM, team)
                .await
                .ok()
                .flatten(),
            Err(_) => None,
        };
        match workspace {
            Some((id, _)) => self.tokens.for_workspace(id).await,
            None => self.settings.bot_token.clone(),
        }
    }

    /// Deletes a workspace's tokens and stops deliveries to it (app_uninstalled, tokens_revoked).
    async fn uninstall(&self, team_id: &str, event_id: &str) -> anyhow::Result<()> {
        let mut tx = store::begin(&self.app.db).await?;
        let now = self.app.now().timestamp();
        if !event_id.is_empty()
            && !store::users::first_sighting(&mut tx, &format!("slack:evt:{event_id}"), now).await?
        {
            return Ok(());
        }
        if let Some((workspace_id, _)) =
            store::users::find_workspace(&mut tx, PLATFORM, team_id).await?
        {
            store::slack::delete_token(&mut tx, workspace_id).await?;
            store::users::disable_workspace(&mut tx, workspace_id, now).await?;
            self.tokens.forget(workspace_id);
            tracing::warn!(
                team = team_id,
                "peerpulse was uninstalled from a Slack workspace; its tokens are deleted"
            );
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds the person's time zone and admin flag from `users.info` (cached; best effort).
    async fn enrich(&self, event: &mut Inbound) {
        let workspace_id = match self.app.db.acquire().await {
            Ok(mut conn) => {
                store::users::find_workspace(&mut conn, PLATFORM, &event.workspace.external_id)
                    .await
                    .ok()
                    .flatten()
                    .map(|(id, _)| id)
            }
            Err(_) => None,
        };
        let key = (workspace_id.unwrap_or(0), event.actor.user_id.clone());
        let cached = self
            .profiles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .filter(|(_, at)| at.elapsed() < PROFILE_TTL)
            .map(|(info, _)| info.clone());
        let info = match cached {
            Some(info) => Some(info),
            None => {
                let token = match workspace_id {
                    Some(id) => self.tokens.for_workspace(id).await,
                    None => self.settings.bot_token.clone(),
                };
                let Some(token) = token else { return };
                // Beyond Slack's limit for users.info the event goes on without the profile
                // instead of waiting for a slot.
                let patience = Duration::from_secs(1);
                let lookup = self.api.users_info(&token, &event.actor.user_id, patience);
                match tokio::time::timeout(Duration::from_secs(2), lookup).await {
                    Ok(Ok(info)) => {
                        self.profiles
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(key, (info.clone(), Instant::now()));
                        Some(info)
                    }
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "users.info failed");
                        None
                    }
                    Err(_) => None,
                }
            }
        };
        if let Some(info) = info {
            event.actor.tz = info.tz;
            event.actor.workspace_admin = info.is_admin;
            if !info.name.is_empty() {
                event.actor.name = info.name;
                event.actor.profile_name = true;
            }
        }
    }
}

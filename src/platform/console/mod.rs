//! The console workspace: a local chat in the terminal where one person can act as a whole
//! team. Bot messages print as `bot → @NAME (dm): …`, `bot → #CHANNEL: …` or
//! `bot → @NAME (only you): …`, each button as `  (b12) Label`.

mod session;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::message::{Destination, Message};
use crate::platform::{Chat, ChatError};
use crate::store::{self, Db};

pub use session::{Flow, Session};

pub const PLATFORM: &str = "console";
pub const WORKSPACE: &str = "local";

/// Renders messages as console lines into a shared buffer.
#[derive(Clone)]
pub struct ConsoleChat {
    db: Db,
    lines: Arc<Mutex<Vec<String>>>,
    /// Buttons of private replies, by id: in memory only.
    private: Arc<Mutex<HashMap<i64, String>>>,
}

impl ConsoleChat {
    pub fn new(db: Db) -> Self {
        ConsoleChat {
            db,
            lines: Arc::default(),
            private: Arc::default(),
        }
    }

    /// The action of button `id`, shown earlier in this session or kept in the workspace.
    pub async fn action_of(&self, id: i64) -> sqlx::Result<Option<String>> {
        if let Some(action) = self
            .private
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(Some(action.clone()));
        }
        store::console::button_action(&self.db, id).await
    }

    /// Takes the lines printed since the last call.
    pub fn drain(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|e| e.into_inner()))
    }

    async fn render(&self, to: &Destination, message: &Message) -> Result<Vec<String>, ChatError> {
        let head = match to {
            Destination::Dm { user } => format!("bot → @{user} (dm):"),
            Destination::Channel { channel } => format!("bot → {channel}:"),
            Destination::Private { user, .. } => format!("bot → @{user} (only you):"),
            Destination::Replace { user, .. } => format!("bot → @{user} (updated):"),
        };
        let mut text = message.text.lines();
        let mut lines = vec![format!("{head} {}", text.next().unwrap_or(""))];
        lines.extend(text.map(|l| format!("  {l}")));
        for section in &message.sections {
            lines.extend(section.lines().map(|l| format!("  {l}")));
        }
        if let Some(image) = &message.image {
            lines.push(format!("  [image: {}]", image.title));
        }
        let private = matches!(to, Destination::Private { .. });
        for button in &message.buttons {
            let id = if private {
                let id = store::console::reserve_button_id(&self.db).await;
                if let Ok(id) = id {
                    self.private
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, button.action_id.clone());
                }
                id
            } else {
                store::console::register_button(&self.db, &button.action_id).await
            }
            .map_err(|e| ChatError::Retry {
                reason: e.to_string(),
                retry_after: None,
            })?;
            lines.push(format!("  (b{id}) {}", button.label));
        }
        Ok(lines)
    }
}

impl Chat for ConsoleChat {
    async fn send(
        &self,
        _workspace_id: i64,
        to: &Destination,
        message: &Message,
    ) -> Result<(), ChatError> {
        let lines = self.render(to, message).await?;
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(lines);
        Ok(())
    }
}

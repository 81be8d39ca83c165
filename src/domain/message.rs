//! The neutral message model every platform renders: text, sections, buttons, an optional image,
//! and where a message goes.

use serde::{Deserialize, Serialize};

/// A message as the core writes it; platforms render it to Block Kit, Discord components or
/// console lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Message {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    /// A serialized [`crate::domain::action::Action`].
    pub action_id: String,
    #[serde(default)]
    pub style: ButtonStyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ButtonStyle {
    #[default]
    Default,
    Primary,
    Danger,
}

/// A picture attached to a message (the summary's trend chart). The platform resolves
/// `source` to PNG bytes and uploads them its own way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub title: String,
    pub alt_text: String,
    /// Where the platform finds the picture, e.g. a summary id that renders to a PNG.
    pub source: String,
}

impl Message {
    pub fn text(text: impl Into<String>) -> Self {
        Message {
            text: text.into(),
            ..Default::default()
        }
    }

    pub fn with_button(mut self, label: impl Into<String>, action: impl ToString) -> Self {
        self.buttons.push(Button {
            label: label.into(),
            action_id: action.to_string(),
            style: ButtonStyle::Default,
        });
        self
    }

    pub fn with_section(mut self, section: impl Into<String>) -> Self {
        self.sections.push(section.into());
        self
    }
}

/// Where a message goes. User and channel references are the platform's own ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Destination {
    /// A direct message to a person.
    Dm { user: String },
    /// A post in a channel everyone in it can see.
    Channel { channel: String },
    /// Visible only to `user`, shown in `channel` (Slack ephemeral, Discord ephemeral reply).
    Private { user: String, channel: String },
    /// Replaces a message the bot posted earlier (e.g. a prompt's buttons once answered).
    Replace {
        user: String,
        channel: String,
        message: String,
    },
}

impl Destination {
    /// Whether this destination names a person (its body is cleared once delivered).
    pub fn is_personal(&self) -> bool {
        !matches!(self, Destination::Channel { .. })
    }
}

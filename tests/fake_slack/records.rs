//! What the fake records: the calls it answered and the messages the bot posted.

use std::time::Instant;

use serde_json::{Map, Value};

/// One Web API call as the fake received and answered it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// Form and query fields as strings, JSON bodies as given.
    pub params: Map<String, Value>,
    pub token: Option<String>,
    pub status: u16,
    pub response: Value,
    pub at: Instant,
}

/// A message the bot successfully posted, posted privately or updated.
#[derive(Debug, Clone)]
pub struct Posted {
    /// `chat.postMessage`, `chat.postEphemeral` or `chat.update`.
    pub method: String,
    pub channel: String,
    /// The target of an ephemeral message.
    pub user: Option<String>,
    pub text: String,
    /// Parsed blocks, `[]` when the message has none.
    pub blocks: Value,
    pub ts: String,
}

/// A button found in a message's blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub block_id: String,
    pub action_id: String,
    pub value: String,
    pub text: String,
}

impl Posted {
    /// Buttons in `actions` blocks and section accessories, in order.
    pub fn buttons(&self) -> Vec<Button> {
        let mut found = Vec::new();
        for block in self.blocks.as_array().into_iter().flatten() {
            let block_id = block["block_id"].as_str().unwrap_or_default().to_string();
            let elements = block["elements"].as_array().into_iter().flatten();
            for element in elements.chain(std::iter::once(&block["accessory"])) {
                if element["type"] == "button" {
                    found.push(Button {
                        block_id: block_id.clone(),
                        action_id: element["action_id"].as_str().unwrap_or_default().into(),
                        value: element["value"].as_str().unwrap_or_default().into(),
                        text: element["text"]["text"].as_str().unwrap_or_default().into(),
                    });
                }
            }
        }
        found
    }
}

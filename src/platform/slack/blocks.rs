//! Block Kit rendering of the neutral message model.

use serde_json::{Value, json};

use crate::domain::message::{ButtonStyle, Message};

/// Slack's limit on a section's text.
const SECTION_LIMIT: usize = 3000;

/// Escapes the three characters Slack treats as control sequences, so text can never mention
/// `@channel` or forge a link.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The plain-text fallback and the blocks of a message.
pub fn render(message: &Message) -> (String, Value) {
    let mut blocks = Vec::new();
    for chunk in chunks(&escape(&message.text), SECTION_LIMIT) {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": chunk}}));
    }
    for section in &message.sections {
        for chunk in chunks(&escape(section), SECTION_LIMIT) {
            blocks
                .push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": chunk}]}));
        }
    }
    if let Some(image) = &message.image {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": escape(&image.alt_text)}]
        }));
    }
    if !message.buttons.is_empty() {
        let elements: Vec<Value> = message
            .buttons
            .iter()
            .take(25)
            .map(|b| {
                let mut button = json!({
                    "type": "button",
                    "text": {"type": "plain_text", "text": truncate(&b.label, 75), "emoji": true},
                    "action_id": b.action_id,
                    "value": b.action_id,
                });
                match b.style {
                    ButtonStyle::Primary => button["style"] = json!("primary"),
                    ButtonStyle::Danger => button["style"] = json!("danger"),
                    ButtonStyle::Default => {}
                }
                button
            })
            .collect();
        blocks.push(json!({"type": "actions", "block_id": "peerpulse", "elements": elements}));
    }
    (truncate(&escape(&message.text), 4000), Value::Array(blocks))
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Splits on line boundaries into pieces of at most `limit` characters.
fn chunks(text: &str, limit: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for line in text.split('\n') {
        let current = out.last_mut().expect("never empty");
        if !current.is_empty() && current.chars().count() + line.chars().count() + 1 > limit {
            out.push(String::new());
        }
        let current = out.last_mut().expect("never empty");
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&truncate(line, limit));
    }
    out.retain(|c| !c.is_empty());
    if out.is_empty() {
        out.push(" ".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_carry_their_action_ids_and_text_is_escaped() {
        let message = Message::text("Hi <!channel> & co")
            .with_section("small print")
            .with_button("3 Full", "answer:7:3");
        let (text, blocks) = render(&message);
        assert_eq!(text, "Hi &lt;!channel&gt; &amp; co");
        assert_eq!(blocks[0]["text"]["text"], "Hi &lt;!channel&gt; &amp; co");
        assert_eq!(blocks[1]["type"], "context");
        assert_eq!(blocks[2]["elements"][0]["action_id"], "answer:7:3");
        assert_eq!(blocks[2]["elements"][0]["text"]["text"], "3 Full");
    }

    #[test]
    fn long_text_is_split_into_sections_within_the_limit() {
        let long = "x".repeat(100);
        let text = vec![long; 80].join("\n");
        let (_, blocks) = render(&Message::text(text));
        let sections = blocks.as_array().unwrap();
        assert!(sections.len() >= 3);
        for s in sections {
            assert!(s["text"]["text"].as_str().unwrap().chars().count() <= SECTION_LIMIT);
        }
    }
}

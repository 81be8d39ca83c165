//! Block Kit rendering of the neutral message model.

use serde_json::{Value, json};

use crate::domain::message::{ButtonStyle, Image, Message};

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
        blocks.push(image_block(image));
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

/// An image block when Slack can reach the picture (a public URL, or a file uploaded to
/// Slack, by id); otherwise its description, as context.
fn image_block(image: &Image) -> Value {
    let source = image.source.as_str();
    let from = if source.starts_with("https://") || source.starts_with("http://") {
        ("image_url", json!(source))
    } else if is_file_id(source) {
        ("slack_file", json!({ "id": source }))
    } else {
        return json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": escape(&image.alt_text)}]
        });
    };
    let mut block = json!({
        "type": "image",
        "alt_text": truncate(&image.alt_text, 1000),
        "title": {"type": "plain_text", "text": truncate(&image.title, 1000)},
    });
    block[from.0] = from.1;
    block
}

/// A Slack file id, such as `F0123456789`.
fn is_file_id(source: &str) -> bool {
    source.len() >= 9
        && source.starts_with('F')
        && source
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
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
    fn an_image_slack_can_reach_is_an_image_block_and_any_other_its_description() {
        let with = |source: &str| Message {
            image: Some(Image {
                title: "Load over 6 weeks".into(),
                alt_text: "Mean load rose from 2.5 to 3.1".into(),
                source: source.into(),
            }),
            ..Message::text("Weekly pulse")
        };
        let (_, blocks) = render(&with("https://pulse.example.com/charts/7.png"));
        assert_eq!(blocks[1]["type"], "image");
        assert_eq!(
            blocks[1]["image_url"],
            "https://pulse.example.com/charts/7.png"
        );
        assert_eq!(blocks[1]["alt_text"], "Mean load rose from 2.5 to 3.1");
        assert_eq!(blocks[1]["title"]["text"], "Load over 6 weeks");
        let (_, blocks) = render(&with("F0123456789"));
        assert_eq!(blocks[1]["type"], "image");
        assert_eq!(blocks[1]["slack_file"]["id"], "F0123456789");
        let (_, blocks) = render(&with("summary:7"));
        assert_eq!(blocks[1]["type"], "context");
        assert_eq!(
            blocks[1]["elements"][0]["text"],
            "Mean load rose from 2.5 to 3.1"
        );
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

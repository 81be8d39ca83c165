//! Block Kit as Slack checks it (docs.slack.dev/reference/block-kit): the block and element
//! rules a bot can get wrong, with errors worded like Slack's `invalid_blocks` messages.

use std::collections::HashSet;

use serde_json::Value;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Surface {
    Message,
    Modal,
}

const ELEMENTS: [&str; 24] = [
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "image",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
    "number_input",
    "overflow",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "timepicker",
    "url_text_input",
    "workflow_button",
];

/// Every problem with `blocks`, as `"[ERROR] … [json-pointer:/blocks/0/text]"`.
pub(super) fn validate(blocks: &Value, surface: Surface) -> Vec<String> {
    let mut check = Check::default();
    let Some(list) = blocks.as_array() else {
        check.err("/blocks", "must be an array");
        return check.errors;
    };
    let max = if surface == Surface::Modal { 100 } else { 50 };
    if list.len() > max {
        check.err("/blocks", format!("must be at most {max} items"));
    }
    let mut block_ids = HashSet::new();
    for (i, block) in list.iter().enumerate() {
        let path = format!("/blocks/{i}");
        if let Some(id) = block.get("block_id") {
            match id.as_str() {
                Some(id) if !id.is_empty() && id.len() <= 255 => {
                    if !block_ids.insert(id.to_string()) {
                        check.err(&path, format!("duplicate block_id {id:?}"));
                    }
                }
                _ => check.err(&format!("{path}/block_id"), "must be 1 to 255 characters"),
            }
        }
        check.block(block, &path);
    }
    check.errors
}

#[derive(Default)]
struct Check {
    errors: Vec<String>,
}

impl Check {
    fn err(&mut self, path: &str, message: impl std::fmt::Display) {
        self.errors
            .push(format!("[ERROR] {message} [json-pointer:{path}]"));
    }

    fn block(&mut self, block: &Value, path: &str) {
        match block["type"].as_str() {
            Some("section") => {
                let has_text = block.get("text").is_some();
                if has_text {
                    self.text(&block["text"], &format!("{path}/text"), false, 3000);
                }
                match block.get("fields").map(Value::as_array) {
                    Some(Some(fields)) if fields.len() <= 10 && !fields.is_empty() => {
                        for (i, field) in fields.iter().enumerate() {
                            self.text(field, &format!("{path}/fields/{i}"), false, 2000);
                        }
                    }
                    Some(_) => self.err(&format!("{path}/fields"), "must be 1 to 10 text objects"),
                    None if !has_text => self.err(path, "section needs text or fields"),
                    None => {}
                }
                if let Some(accessory) = block.get("accessory") {
                    self.element(accessory, &format!("{path}/accessory"));
                }
            }
            Some("actions") => match block["elements"].as_array() {
                Some(elements) if !elements.is_empty() && elements.len() <= 25 => {
                    let mut action_ids = HashSet::new();
                    for (i, element) in elements.iter().enumerate() {
                        let at = format!("{path}/elements/{i}");
                        if let Some(id) = element["action_id"].as_str()
                            && !action_ids.insert(id)
                        {
                            self.err(&at, format!("duplicate action_id {id:?} in the block"));
                        }
                        self.element(element, &at);
                    }
                }
                _ => self.err(&format!("{path}/elements"), "must be 1 to 25 elements"),
            },
            Some("context") => match block["elements"].as_array() {
                Some(elements) if !elements.is_empty() && elements.len() <= 10 => {
                    for (i, element) in elements.iter().enumerate() {
                        let at = format!("{path}/elements/{i}");
                        if element["type"] == "image" {
                            self.image(element, &at, "image_url");
                        } else {
                            self.text(element, &at, false, 3000);
                        }
                    }
                }
                _ => self.err(&format!("{path}/elements"), "must be 1 to 10 elements"),
            },
            Some("header") => self.text(&block["text"], &format!("{path}/text"), true, 150),
            Some("image") => {
                self.image(block, path, "image_url");
                if let Some(title) = block.get("title") {
                    self.text(title, &format!("{path}/title"), true, 2000);
                }
            }
            Some("input") => {
                self.text(&block["label"], &format!("{path}/label"), true, 2000);
                if block.get("element").is_none() {
                    self.err(path, "input needs an element");
                } else {
                    self.element(&block["element"], &format!("{path}/element"));
                }
            }
            Some("divider" | "rich_text" | "markdown" | "file" | "video") => {}
            Some(other) => self.err(
                &format!("{path}/type"),
                format!("unknown block type {other:?}"),
            ),
            None => self.err(&format!("{path}/type"), "missing block type"),
        }
    }

    fn text(&mut self, text: &Value, path: &str, plain_only: bool, max: usize) {
        let kind = text["type"].as_str();
        match kind {
            Some("plain_text") => {}
            Some("mrkdwn") if !plain_only => {
                if text.get("emoji").is_some() {
                    self.err(&format!("{path}/emoji"), "emoji is only for plain_text");
                }
            }
            _ => {
                let allowed = if plain_only {
                    "plain_text"
                } else {
                    "plain_text or mrkdwn"
                };
                self.err(&format!("{path}/type"), format!("must be {allowed}"));
            }
        }
        match text["text"].as_str() {
            Some("") => self.err(&format!("{path}/text"), "must be more than 0 characters"),
            Some(s) if s.chars().count() > max => self.err(
                &format!("{path}/text"),
                format!("must be less than {} characters", max + 1),
            ),
            Some(_) => {}
            None => self.err(&format!("{path}/text"), "missing text"),
        }
    }

    fn image(&mut self, image: &Value, path: &str, url_field: &str) {
        let has_source = image[url_field]
            .as_str()
            .is_some_and(|u| !u.is_empty() && u.len() <= 3000)
            || image.get("slack_file").is_some();
        if !has_source {
            self.err(
                &format!("{path}/{url_field}"),
                "needs an image_url (max 3000) or slack_file",
            );
        }
        if !image["alt_text"]
            .as_str()
            .is_some_and(|a| !a.is_empty() && a.len() <= 2000)
        {
            self.err(&format!("{path}/alt_text"), "must be 1 to 2000 characters");
        }
    }

    fn element(&mut self, element: &Value, path: &str) {
        let kind = element["type"].as_str().unwrap_or_default();
        if !ELEMENTS.contains(&kind) {
            self.err(
                &format!("{path}/type"),
                format!("unknown element type {kind:?}"),
            );
            return;
        }
        if let Some(id) = element.get("action_id")
            && !id
                .as_str()
                .is_some_and(|id| !id.is_empty() && id.len() <= 255)
        {
            self.err(&format!("{path}/action_id"), "must be 1 to 255 characters");
        }
        match kind {
            "button" => {
                self.text(&element["text"], &format!("{path}/text"), true, 75);
                if let Some(value) = element.get("value")
                    && !value
                        .as_str()
                        .is_some_and(|v| !v.is_empty() && v.len() <= 2000)
                {
                    self.err(&format!("{path}/value"), "must be 1 to 2000 characters");
                }
                if let Some(style) = element.get("style")
                    && style != "primary"
                    && style != "danger"
                {
                    self.err(&format!("{path}/style"), "must be primary or danger");
                }
            }
            "image" => self.image(element, path, "image_url"),
            _ => {}
        }
    }
}

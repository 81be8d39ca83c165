//! Slack's external upload flow: `files.getUploadURLExternal` hands out `/upload/{file_id}` on
//! this server, the bot POSTs the bytes there (raw or multipart), and
//! `files.completeUploadExternal` shares the file in a channel.

use axum::body::Bytes;
use axum::extract::{Path, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use super::FakeSlack;
use super::State;
use super::api::{Ctx, Reply};

/// A file handed out by `files.getUploadURLExternal`.
pub(super) struct Slot {
    id: String,
    filename: String,
    length: usize,
    bytes: Option<Vec<u8>>,
    /// (order of sharing, file)
    shared: Option<(u64, SharedFile)>,
}

/// A file that `files.completeUploadExternal` shared.
#[derive(Debug, Clone)]
pub struct SharedFile {
    pub id: String,
    pub filename: String,
    pub title: Option<String>,
    pub channel: Option<String>,
    pub initial_comment: Option<String>,
    pub thread_ts: Option<String>,
    pub bytes: Vec<u8>,
}

impl FakeSlack {
    /// Files whose upload was completed: (filename, bytes), in the order they were shared.
    pub fn uploads(&self) -> Vec<(String, Vec<u8>)> {
        self.shared_files()
            .into_iter()
            .map(|f| (f.filename, f.bytes))
            .collect()
    }

    pub fn shared_files(&self) -> Vec<SharedFile> {
        let state = self.state();
        let mut shared: Vec<(u64, SharedFile)> = state
            .files
            .iter()
            .filter_map(|slot| slot.shared.clone())
            .collect();
        shared.sort_by_key(|(order, _)| *order);
        shared.into_iter().map(|(_, file)| file).collect()
    }
}

pub(super) fn get_upload_url(state: &mut State, cx: &Ctx) -> Reply {
    let filename = cx.str("filename").unwrap_or_default();
    let Some(length) = cx.str("length").and_then(|l| l.parse::<usize>().ok()) else {
        return Reply::error("invalid_arguments");
    };
    if filename.is_empty() || length == 0 {
        return Reply::error("invalid_arguments");
    }
    let id = format!("F{:010}", state.next_seq());
    state.files.push(Slot {
        id: id.clone(),
        filename,
        length,
        bytes: None,
        shared: None,
    });
    let upload_url = format!("{}/upload/{id}", cx.base);
    Reply::ok(json!({"ok": true, "upload_url": upload_url, "file_id": id}))
}

pub(super) async fn upload(
    Extract(fake): Extract<FakeSlack>,
    Path(file_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let bytes = match multipart_boundary(content_type) {
        Some(boundary) => match first_part(&body, &boundary) {
            Some(part) => part.to_vec(),
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    "multipart body does not parse".into(),
                );
            }
        },
        None => body.to_vec(),
    };
    let mut state = fake.state();
    let Some(slot) = state.files.iter_mut().find(|s| s.id == file_id) else {
        return (StatusCode::NOT_FOUND, "no such upload".into());
    };
    let (length, declared) = (bytes.len(), slot.length);
    slot.bytes = Some(bytes);
    if length != declared {
        let problem = format!("upload {file_id}: {length} bytes sent, length said {declared}");
        state.violations.push(problem);
    }
    (StatusCode::OK, format!("OK - {length}"))
}

fn multipart_boundary(content_type: &str) -> Option<String> {
    if !content_type.starts_with("multipart/form-data") {
        return None;
    }
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?;
    Some(boundary.trim_matches('"').to_string())
}

/// The content of the first part of a multipart body.
fn first_part<'a>(body: &'a [u8], boundary: &str) -> Option<&'a [u8]> {
    let delimiter = format!("--{boundary}");
    let start = find(body, delimiter.as_bytes())? + delimiter.len();
    let rest = &body[start..];
    let headers_end = find(rest, b"\r\n\r\n")? + 4;
    let content = &rest[headers_end..];
    let end = find(content, format!("\r\n{delimiter}").as_bytes())?;
    Some(&content[..end])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn complete_upload(state: &mut State, cx: &Ctx, violations: &mut Vec<String>) -> Reply {
    let files = match cx.req.params.get("files") {
        Some(Value::String(raw)) => serde_json::from_str::<Value>(raw).unwrap_or(Value::Null),
        Some(given) => given.clone(),
        None => Value::Null,
    };
    let Some(files) = files.as_array().filter(|f| !f.is_empty()) else {
        return Reply::error("invalid_arguments");
    };
    let channel = cx.str("channel_id").or_else(|| cx.str("channels"));
    if channel
        .as_ref()
        .is_some_and(|c| state.removed_channels.contains(c))
    {
        return Reply::error("channel_not_found");
    }
    let mut answered = Vec::new();
    for file in files {
        let id = file["id"].as_str().unwrap_or_default();
        let extra: Vec<&String> = file
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .filter(|k| *k != "id" && *k != "title")
            .collect();
        if !extra.is_empty() {
            violations.push(format!(
                "files entry has fields besides id and title: {extra:?}"
            ));
        }
        let order = state.next_seq();
        let Some(slot) = state.files.iter_mut().find(|s| s.id == id) else {
            return Reply::error("file_not_found");
        };
        let Some(bytes) = slot.bytes.clone() else {
            violations.push(format!("{id} completed before its bytes were uploaded"));
            return Reply::error("file_not_found");
        };
        let title = file["title"].as_str().map(str::to_string);
        let shared = SharedFile {
            id: slot.id.clone(),
            filename: slot.filename.clone(),
            title: title.clone(),
            channel: channel.clone(),
            initial_comment: cx.str("initial_comment"),
            thread_ts: cx.str("thread_ts"),
            bytes: bytes.clone(),
        };
        slot.shared = Some((order, shared));
        answered.push(json!({
            "id": id, "name": slot.filename, "title": title.unwrap_or_else(|| slot.filename.clone()),
            "size": bytes.len(), "channels": channel.iter().collect::<Vec<_>>(),
        }));
    }
    Reply::ok(json!({"ok": true, "files": answered}))
}

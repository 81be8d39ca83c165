//! Which parameters each Web API method takes: Slack's OpenAPI v2 description (2020) from
//! `shared/specs/`, plus the methods newer than it, written here from Slack's method docs.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/specs/slack_web_openapi_v2.json"
);

/// Parameters whose value is JSON: a string when form-encoded, JSON itself in a JSON body.
const JSON_FIELDS: [(&str, Shape); 4] = [
    ("blocks", Shape::Array),
    ("attachments", Shape::Array),
    ("files", Shape::Array),
    ("view", Shape::Object),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    Array,
    Object,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    String,
    Boolean,
    Integer,
    Number,
}

#[derive(Debug)]
struct Param {
    name: String,
    required: bool,
    ty: Ty,
}

fn param(name: &str, required: bool, ty: Ty) -> Param {
    Param {
        name: name.into(),
        required,
        ty,
    }
}

static METHODS: LazyLock<HashMap<String, Vec<Param>>> = LazyLock::new(load);

fn load() -> HashMap<String, Vec<Param>> {
    let text = std::fs::read_to_string(SPEC_PATH)
        .unwrap_or_else(|e| panic!("the fake Slack needs {SPEC_PATH}: {e}"));
    let spec: Value = serde_json::from_str(&text).expect("Slack's OpenAPI description parses");
    let paths = spec["paths"].as_object().expect("the spec has paths");
    let mut methods = HashMap::new();
    for (path, operations) in paths {
        let mut params: Vec<Param> = Vec::new();
        for operation in operations.as_object().into_iter().flat_map(|o| o.values()) {
            for p in operation["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                if params.iter().any(|known| known.name == name) {
                    continue;
                }
                let ty = match p["type"].as_str() {
                    Some("boolean") => Ty::Boolean,
                    Some("integer") => Ty::Integer,
                    Some("number") => Ty::Number,
                    _ => Ty::String,
                };
                params.push(param(name, p["required"] == true, ty));
            }
        }
        methods.insert(path.trim_start_matches('/').to_string(), params);
    }
    methods.extend(newer_methods());
    methods
}

/// From docs.slack.dev: apps.connections.open, files.getUploadURLExternal,
/// files.completeUploadExternal.
fn newer_methods() -> Vec<(String, Vec<Param>)> {
    let token = || param("token", true, Ty::String);
    vec![
        ("apps.connections.open".into(), vec![token()]),
        (
            "files.getUploadURLExternal".into(),
            vec![
                token(),
                param("filename", true, Ty::String),
                param("length", true, Ty::Integer),
                param("alt_txt", false, Ty::String),
                param("snippet_type", false, Ty::String),
            ],
        ),
        (
            "files.completeUploadExternal".into(),
            vec![
                token(),
                param("files", true, Ty::String),
                param("channel_id", false, Ty::String),
                param("channels", false, Ty::String),
                param("initial_comment", false, Ty::String),
                param("thread_ts", false, Ty::String),
            ],
        ),
    ]
}

pub(super) fn is_known(method: &str) -> bool {
    METHODS.contains_key(method)
}

/// The outcome of checking one call's parameters.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// Every mismatch with the spec, missing parameters included.
    pub violations: Vec<String>,
    /// Required parameters that are missing (the call then answers `invalid_arguments`).
    pub missing: Vec<String>,
}

/// Checks parameters against the method's description. `token` is satisfied by the
/// Authorization header; form fields are strings, JSON bodies may carry typed values.
pub(super) fn check(
    method: &str,
    params: &Map<String, Value>,
    has_token: bool,
    json_body: bool,
) -> Checked {
    let mut checked = Checked::default();
    let Some(schema) = METHODS.get(method) else {
        return checked;
    };
    for p in schema.iter().filter(|p| p.required) {
        let given = params.contains_key(&p.name) || (p.name == "token" && has_token);
        if !given {
            checked
                .missing
                .push(format!("missing required parameter `{}`", p.name));
        }
    }
    checked.violations.extend(checked.missing.iter().cloned());
    for (name, value) in params {
        if name == "token" && !json_body {
            continue;
        }
        match schema.iter().find(|p| p.name == *name) {
            None => checked
                .violations
                .push(format!("parameter `{name}` is not in the spec")),
            Some(p) => {
                if let Some(problem) = check_value(name, p.ty, value) {
                    checked
                        .violations
                        .push(format!("parameter `{name}` {problem}"));
                }
            }
        }
    }
    checked
}

fn check_value(name: &str, ty: Ty, value: &Value) -> Option<String> {
    let json_shape = JSON_FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s);
    match (value, ty) {
        (Value::Null, _) => Some("is null".into()),
        (Value::String(s), Ty::Boolean) if s != "true" && s != "false" => {
            Some(format!("must be true or false, got {s:?}"))
        }
        (Value::String(s), Ty::Integer) if s.parse::<i64>().is_err() => {
            Some(format!("must be an integer, got {s:?}"))
        }
        (Value::String(s), Ty::Number) if s.parse::<f64>().is_err() => {
            Some(format!("must be a number, got {s:?}"))
        }
        (Value::String(s), Ty::String) => match (json_shape, serde_json::from_str::<Value>(s)) {
            (None, _) => None,
            (Some(_), Err(e)) => Some(format!("is not valid JSON: {e}")),
            (Some(shape), Ok(parsed)) => wrong_shape(shape, &parsed),
        },
        (Value::String(_), _) => None,
        (Value::Bool(_), Ty::Boolean | Ty::String) => None,
        (Value::Bool(b), _) => Some(format!("must be a {ty:?}, got {b}")),
        (Value::Number(n), Ty::Integer) if !(n.is_i64() || n.is_u64()) => {
            Some(format!("must be an integer, got {n}"))
        }
        (Value::Number(n), Ty::Boolean) => Some(format!("must be true or false, got {n}")),
        (Value::Number(_), _) => None,
        (Value::Array(_) | Value::Object(_), _) => match json_shape {
            Some(shape) => wrong_shape(shape, value),
            None => Some(format!("must be a {ty:?}, got JSON {value}")),
        },
    }
}

fn wrong_shape(shape: Shape, value: &Value) -> Option<String> {
    let fits = match shape {
        Shape::Array => value.is_array(),
        Shape::Object => value.is_object(),
    };
    (!fits).then(|| format!("must be a JSON {shape:?}, got {value}"))
}

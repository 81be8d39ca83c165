//! The fake Slack checked on its own, with a plain HTTP client and websocket client, so that
//! the bot's Slack tests can trust what it says.

mod fake_slack;

use std::time::{Duration, Instant};

use fake_slack::FakeSlack;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn call_with(fake: &FakeSlack, token: &str, method: &str, form: &[(&str, &str)]) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{}/{method}", fake.api_url()))
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .expect("the fake answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.json().await.expect("a JSON answer");
    Answer {
        status,
        retry_after,
        body,
    }
}

async fn call(fake: &FakeSlack, method: &str, form: &[(&str, &str)]) -> Answer {
    call_with(fake, fake.bot_token(), method, form).await
}

/// `chat.postMessage` with text to a channel, plus any other fields.
async fn post(fake: &FakeSlack, channel: &str, more: &[(&str, &str)]) -> Answer {
    let mut form = vec![("channel", channel), ("text", "hi")];
    form.extend_from_slice(more);
    call(fake, "chat.postMessage", &form).await
}

async fn post_json(fake: &FakeSlack, token: Option<&str>, body: &Value) -> Value {
    let mut request = reqwest::Client::new().post(format!("{}/chat.postMessage", fake.api_url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.json(body).send().await.expect("the fake answers");
    response.json().await.expect("a JSON answer")
}

fn assert_no_violations(fake: &FakeSlack) {
    let violations = fake.spec_violations();
    assert!(violations.is_empty(), "{violations:#?}");
}

fn buttons(action_id: &str, value: &str, label: &str) -> String {
    let button = json!({"type": "button", "action_id": action_id, "value": value,
        "text": {"type": "plain_text", "text": label}});
    json!([{"type": "actions", "block_id": "load", "elements": [button]}]).to_string()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a Socket Mode connection the way the bot does and reads the hello.
async fn connect(fake: &FakeSlack) -> (String, Socket, Value) {
    let opened = call_with(fake, fake.app_token(), "apps.connections.open", &[]).await;
    let url = opened.body["url"].as_str().expect("a url").to_string();
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connects");
    let Some(Ok(Message::Text(hello))) = ws.next().await else {
        panic!("no hello")
    };
    (url, ws, serde_json::from_str(&hello).unwrap())
}

/// A client that acks every envelope and returns everything it read once the socket ends.
fn acker(ws: Socket) -> tokio::task::JoinHandle<Vec<Value>> {
    let (mut sink, mut stream) = ws.split();
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(Ok(Message::Text(text))) = stream.next().await {
            let envelope: Value = serde_json::from_str(&text).unwrap();
            if let Some(id) = envelope["envelope_id"].as_str() {
                let ack = json!({"envelope_id": id}).to_string();
                sink.send(Message::Text(ack)).await.unwrap();
            }
            seen.push(envelope);
        }
        seen
    })
}

#[tokio::test]
async fn a_well_formed_post_is_recorded_and_answered_like_slack() {
    let fake = FakeSlack::start().await;
    let first = post(&fake, "C1", &[("blocks", &buttons("load:3", "3", "OK"))]).await;
    let second = post(&fake, "U2", &[("unfurl_links", "false")]).await;

    assert_eq!(first.body["ok"], true, "{}", first.body);
    assert_eq!(first.body["message"]["blocks"][0]["block_id"], "load");
    assert_eq!(second.body["channel"], "DU2", "a user id posts to the DM");
    assert!(first.body["ts"].as_str() < second.body["ts"].as_str());
    let posted = fake.posted();
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[0].buttons()[0].action_id, "load:3");
    let token = fake.calls_to("chat.postMessage")[0].token.clone();
    assert_eq!(token.as_deref(), Some("xoxb-fake-token"));
    assert_no_violations(&fake);
}

#[tokio::test]
async fn parameters_outside_the_spec_are_reported_as_violations() {
    let fake = FakeSlack::start().await;
    let unknown = post(&fake, "C1", &[("colour", "red")]).await;
    let form = [("channel", "C1"), ("text", "x")];
    let missing = call(&fake, "chat.postEphemeral", &form).await;
    post(&fake, "C1", &[("mrkdwn", "1")]).await;
    let bad_method = call(&fake, "chat.postMessag", &form).await;

    assert_eq!(unknown.body["ok"], true, "Slack ignores unknown arguments");
    assert_eq!(missing.body["error"], "invalid_arguments");
    assert_eq!(bad_method.body["error"], "unknown_method");
    let violations = fake.spec_violations().join("\n");
    for expected in [
        "`colour` is not in the spec",
        "missing required parameter `user`",
        "`mrkdwn` must be true or false",
        "chat.postMessag: unknown method",
    ] {
        assert!(violations.contains(expected), "{expected} in {violations}");
    }
}

#[tokio::test]
async fn json_bodies_are_checked_and_the_token_belongs_in_the_header() {
    let fake = FakeSlack::start().await;
    let good = json!({"channel": "C1", "text": "hi", "blocks": [{"type": "divider"}],
        "unfurl_links": false});
    assert_eq!(
        post_json(&fake, Some(fake.bot_token()), &good).await["ok"],
        true
    );
    assert_no_violations(&fake);

    let bad = json!({"token": fake.bot_token(), "channel": {"id": "C1"}, "text": "hi"});
    assert_eq!(post_json(&fake, None, &bad).await["error"], "not_authed");
    let violations = fake.spec_violations().join("\n");
    assert!(violations.contains("token in a JSON body"), "{violations}");
    assert!(
        violations.contains("`channel` must be a String"),
        "{violations}"
    );
}

#[tokio::test]
async fn invalid_blocks_are_refused_and_reported() {
    let fake = FakeSlack::start().await;
    let blocks = json!([{"type": "actions", "elements": [
        {"type": "button", "action_id": "a", "text": {"type": "mrkdwn", "text": "x"}},
        {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": ""}}
    ]}]);
    let answer = post(&fake, "C1", &[("blocks", &blocks.to_string())]).await;

    assert_eq!(answer.body["error"], "invalid_blocks");
    assert!(fake.posted().is_empty());
    assert_eq!(
        fake.spec_violations().len(),
        3,
        "{:?}",
        fake.spec_violations()
    );
}

#[tokio::test]
async fn forced_429s_carry_retry_after_then_calls_go_through() {
    let fake = FakeSlack::start().await;
    fake.rate_limit_first(2, 7);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let answer = call(&fake, "users.info", &[("user", "U1")]).await;
        statuses.push((answer.status, answer.retry_after));
    }
    let limited = (429, Some("7".to_string()));
    assert_eq!(statuses, [limited.clone(), limited, (200, None)]);
    assert_eq!(fake.calls().len(), 3, "429s are recorded too");
}

#[tokio::test]
async fn a_tier_3_method_trips_after_50_calls_in_a_minute() {
    let fake = FakeSlack::start().await;
    for i in 0..50 {
        let answer = call(&fake, "conversations.open", &[("users", &format!("U{i}"))]).await;
        assert_eq!(answer.status, 200, "call {i}: {}", answer.body);
    }
    let over = call(&fake, "conversations.open", &[("users", "U99")]).await;
    assert_eq!(
        (over.status, over.body["error"].as_str()),
        (429, Some("ratelimited"))
    );
    let secs: u64 = over
        .retry_after
        .expect("Retry-After")
        .parse()
        .expect("whole seconds");
    assert!((1..=60).contains(&secs), "{secs}");
    let other = call(&fake, "users.info", &[("user", "U1")]).await;
    assert_eq!(other.status, 200, "limits are per method");

    fake.enforce_tiers(false);
    let free = call(&fake, "conversations.open", &[("users", "U99")]).await;
    assert_eq!(free.status, 200);
}

#[tokio::test]
async fn post_message_is_limited_per_channel_after_a_small_burst() {
    let fake = FakeSlack::start().await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(post(&fake, "C1", &[]).await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    assert_eq!(post(&fake, "C2", &[]).await.status, 200, "another channel");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(post(&fake, "C1", &[]).await.status, 200, "a second later");
}

#[tokio::test]
async fn failures_on_demand_bad_tokens_and_revocation() {
    let fake = FakeSlack::start().await;
    fake.add_user("U1", "alice", "Europe/Berlin", true);
    fake.fail_next("users.info", "account_inactive");
    fake.remove_channel("C9");
    let alice = [("user", "U1")];

    let failed = call(&fake, "users.info", &alice).await;
    assert_eq!(failed.body["error"], "account_inactive");
    let user = call(&fake, "users.info", &alice).await.body["user"].clone();
    assert_eq!(
        (user["tz"].as_str(), user["is_admin"].as_bool()),
        (Some("Europe/Berlin"), Some(true))
    );
    let url = format!("{}/users.info?user=U1", fake.api_url());
    let get = reqwest::Client::new()
        .get(url)
        .bearer_auth(fake.bot_token())
        .send()
        .await;
    let got: Value = get.unwrap().json().await.unwrap();
    assert_eq!(
        got["user"]["name"], "alice",
        "GET with query parameters works too"
    );
    let unknown = call(&fake, "users.info", &[("user", "U2")]).await;
    assert_eq!(unknown.body["error"], "user_not_found");
    assert_eq!(
        post(&fake, "C9", &[]).await.body["error"],
        "channel_not_found"
    );
    let wrong = call_with(&fake, "xoxb-other", "auth.test", &[]).await;
    assert_eq!(wrong.body["error"], "invalid_auth");

    fake.fail_always("chat.postMessage", "not_in_channel");
    for _ in 0..2 {
        assert_eq!(post(&fake, "C1", &[]).await.body["error"], "not_in_channel");
    }
    fake.clear_failures();
    fake.revoke_token();
    assert_eq!(post(&fake, "C1", &[]).await.body["error"], "token_revoked");
    assert!(fake.posted().is_empty());
}

#[tokio::test]
async fn an_oauth_code_installs_a_workspace_once() {
    let fake = FakeSlack::start().await;
    fake.oauth_code("code-1", "T2", "xoxb-t2");
    let form = [
        ("code", "code-1"),
        ("client_id", "cid"),
        ("client_secret", "secret"),
    ];
    let before = call_with(&fake, "xoxb-t2", "auth.test", &[]).await;
    let answer = call_with(&fake, "", "oauth.v2.access", &form).await.body;
    let again = call_with(&fake, "", "oauth.v2.access", &form).await;
    let after = call_with(&fake, "xoxb-t2", "auth.test", &[]).await;

    assert_eq!(before.body["error"], "invalid_auth");
    assert_eq!(answer["access_token"], "xoxb-t2", "{answer}");
    assert_eq!(
        (answer["token_type"].as_str(), answer["team"]["id"].as_str()),
        (Some("bot"), Some("T2"))
    );
    assert!(answer["bot_user_id"].is_string() && answer["app_id"].is_string());
    assert_eq!(again.body["error"], "invalid_code");
    assert_eq!(after.body["team_id"], "T2");
    assert_no_violations(&fake);
}

#[tokio::test]
async fn an_update_replaces_the_buttons_and_a_click_carries_the_real_message() {
    let fake = FakeSlack::start().await;
    let posted = post(
        &fake,
        "DU1",
        &[("blocks", &buttons("load:2", "r1:2", "Stretched"))],
    )
    .await;
    let ts = posted.body["ts"].as_str().unwrap().to_string();
    let click = fake.click_payload(&fake.posted()[0], "load:2", "U1", "T1");
    let form = [
        ("channel", "DU1"),
        ("ts", &ts),
        ("text", "Thanks"),
        ("blocks", "[]"),
    ];
    let update = call(&fake, "chat.update", &form).await;
    let form = [("channel", "DU1"), ("ts", "1.2"), ("text", "x")];
    let missing = call(&fake, "chat.update", &form).await;

    let action = &click["actions"][0];
    assert_eq!(
        (action["block_id"].as_str(), action["value"].as_str()),
        (Some("load"), Some("r1:2"))
    );
    assert_eq!(action["text"]["text"], "Stretched");
    assert_eq!(click["message"]["blocks"][0]["block_id"], "load");
    assert!(
        click["response_url"]
            .as_str()
            .unwrap()
            .starts_with(&fake.base_url())
    );
    assert_eq!(update.body["ts"], ts.as_str());
    assert_eq!(missing.body["error"], "message_not_found");
    let current = fake.message("DU1", &ts).unwrap();
    assert_eq!(
        (current.text.as_str(), current.buttons().len()),
        ("Thanks", 0)
    );
    assert_eq!(fake.posted().last().unwrap().method, "chat.update");
    assert_no_violations(&fake);
}

#[tokio::test]
async fn a_trigger_id_opens_one_modal_and_response_urls_are_recorded() {
    let fake = FakeSlack::start().await;
    let view = json!({"type": "modal", "title": {"type": "plain_text", "text": "Note"},
        "submit": {"type": "plain_text", "text": "Send"}, "blocks": [{"type": "input",
        "block_id": "note", "label": {"type": "plain_text", "text": "Note"},
        "element": {"type": "plain_text_input", "action_id": "text"}}]})
    .to_string();
    let trigger = fake.trigger_id();
    let form = [("trigger_id", trigger.as_str()), ("view", view.as_str())];
    let opened = call(&fake, "views.open", &form).await.body;
    let again = call(&fake, "views.open", &form).await.body;
    let url = fake.response_url();
    let said = reqwest::Client::new()
        .post(&url)
        .json(&json!({"text": "Noted"}))
        .send()
        .await;

    assert!(
        opened["view"]["id"].as_str().unwrap().starts_with('V'),
        "{opened}"
    );
    assert_eq!(again["error"], "exchanged_trigger_id");
    assert_eq!(fake.views_opened().len(), 1);
    assert_eq!(said.unwrap().status(), 200);
    assert_eq!(fake.responses(), vec![(url, json!({"text": "Noted"}))]);
    assert_no_violations(&fake);
}

#[tokio::test]
async fn the_external_upload_flow_shares_the_bytes() {
    let fake = FakeSlack::start().await;
    let form = [("filename", "chart.png"), ("length", "4")];
    let url = call(&fake, "files.getUploadURLExternal", &form).await.body;
    let upload_url = url["upload_url"].as_str().unwrap();
    assert!(upload_url.starts_with(&fake.base_url()), "{upload_url}");
    let body = b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"chart.png\"\r\n\r\n\x01\x02\x03\x04\r\n--XX--\r\n";
    let uploaded = reqwest::Client::new()
        .post(upload_url)
        .header("content-type", "multipart/form-data; boundary=XX")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200);
    let files = json!([{"id": url["file_id"], "title": "Load this week"}]).to_string();
    let form = [("files", files.as_str()), ("channel_id", "C1")];
    let done = call(&fake, "files.completeUploadExternal", &form).await;

    assert_eq!(done.body["ok"], true, "{}", done.body);
    assert_eq!(
        fake.uploads(),
        vec![("chart.png".to_string(), vec![1, 2, 3, 4])]
    );
    assert_eq!(fake.shared_files()[0].channel.as_deref(), Some("C1"));
    assert_no_violations(&fake);
}

#[tokio::test]
async fn socket_mode_says_hello_and_gets_acks() {
    let fake = FakeSlack::start().await;
    let wrong = call(&fake, "apps.connections.open", &[]).await;
    assert_eq!(wrong.body["error"], "not_allowed_token_type");
    let (url, ws, hello) = connect(&fake).await;
    assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
    assert_eq!(
        (hello["type"].as_str(), hello["num_connections"].as_u64()),
        (Some("hello"), Some(1))
    );
    let reused = tokio_tungstenite::connect_async(url.as_str()).await;
    assert!(reused.is_err(), "tickets are single use");

    let client = acker(ws);
    let started = Instant::now();
    let payload = json!({"command": "/pulse", "text": "join"});
    let ack = fake.socket_send("slash_commands", payload).await;
    assert!(ack["envelope_id"].is_string());
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(fake.socket_connections(), 1);

    fake.socket_disconnect("refresh_requested").await;
    let seen = client.await.unwrap();
    assert_eq!(seen[0]["payload"]["text"], "join");
    assert_eq!(seen[0]["envelope_id"], ack["envelope_id"]);
    assert_eq!(
        (seen[1]["type"].as_str(), seen[1]["reason"].as_str()),
        (Some("disconnect"), Some("refresh_requested"))
    );
    assert_eq!(
        (fake.socket_connections(), fake.socket_connects_total()),
        (0, 1)
    );
    assert_no_violations(&fake);
}

#[tokio::test]
async fn a_dropped_socket_ends_without_a_message_and_a_new_one_takes_over() {
    let fake = FakeSlack::start().await;
    let (_, ws, _) = connect(&fake).await;
    let first = acker(ws);
    fake.socket_drop().await;
    assert!(
        first.await.unwrap().is_empty(),
        "nothing was said before the drop"
    );
    assert_eq!(fake.socket_connections(), 0);

    let (_, ws, _) = connect(&fake).await;
    let second = acker(ws);
    let ack = fake
        .socket_send("events_api", json!({"event_id": "Ev1"}))
        .await;
    assert!(ack["envelope_id"].is_string());
    assert_eq!(
        (fake.socket_connections(), fake.socket_connects_total()),
        (1, 2)
    );
    fake.socket_drop().await;
    assert_eq!(second.await.unwrap().len(), 1);
}

#[test]
fn signatures_match_slacks_documented_example() {
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let signature = fake_slack::sign(
        "8f742231b10e8888abcd99yyyzzz85a5",
        1531420618,
        body.as_bytes(),
    );
    assert_eq!(
        signature,
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    );

    let form = fake_slack::slash_command_form("T1", "C1", "team", "U1", "alice", "setup day=mon");
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
    assert!(fields.contains(&("text".into(), "setup day=mon".into())));
    assert!(fields.contains(&("command".into(), "/pulse".into())));
    let click = fake_slack::block_actions_payload("U1", "T1", "DU1", "1.2", "load:2", "v", "t");
    assert_eq!(
        (
            click["type"].as_str(),
            click["container"]["message_ts"].as_str()
        ),
        (Some("block_actions"), Some("1.2"))
    );
    let event = fake_slack::event_callback("T1", "Ev1", json!({"type": "app_uninstalled"}));
    assert!(event["event"]["event_ts"].is_string() && event["authed_users"].is_array());
}

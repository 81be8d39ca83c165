//! The signed HTTP side of Slack, end to end against the fake: request signatures and replay
//! windows, `ssl_check`, body limits, `url_verification`, retried deliveries, `/healthz`,
//! `/metrics` and `peerpulse slack manifest`. (OAuth installs and uninstall events are in
//! `slack_revoked.rs`.)

mod bot;
mod fake_slack;

use std::time::Duration;

use bot::{Bot, SIGNING_SECRET, Transport};
use fake_slack::{FakeSlack, Posted, TEAM_ID};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

const CHANNEL: &str = "C0PLATFORM";
const PEOPLE: [(&str, &str); 6] = [
    ("U1", "alice"),
    ("U2", "bob"),
    ("U3", "chen"),
    ("U4", "dana"),
    ("U5", "eli"),
    ("U6", "fay"),
];
const TS: &str = "X-Slack-Request-Timestamp";
const SIG: &str = "X-Slack-Signature";
const FORM: &str = "application/x-www-form-urlencoded";
type Headers = Vec<(&'static str, String)>;

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Hex HMAC-SHA256 of `v0:{ts}:{body}`; `ts` may be anything, even non-numeric.
fn mac(secret: &str, ts: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("v0:{ts}:").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn signed(ts: &str, body: &[u8]) -> Headers {
    let sig = format!("v0={}", mac(SIGNING_SECRET, ts, body));
    vec![(TS, ts.to_string()), (SIG, sig)]
}

fn content_type(path: &str) -> &'static str {
    if path == "/slack/events" {
        "application/json"
    } else {
        FORM
    }
}

async fn send(
    bot: &Bot,
    path: &str,
    body: &[u8],
    headers: &[(&str, String)],
) -> (StatusCode, String) {
    let mut request = bot
        .http
        .post(format!("{}{path}", bot.base))
        .header("content-type", content_type(path))
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// `body` signed now, as Slack sends it; the status and the answer's text.
async fn send_signed(bot: &Bot, path: &str, body: &str) -> (StatusCode, String) {
    let headers = signed(&unix_now().to_string(), body.as_bytes());
    send(bot, path, body.as_bytes(), &headers).await
}

/// Every way to get the signature wrong, each with the body actually sent. `tamper` replaces
/// one substring with another of the same length, so exactly one byte changes.
fn forgeries(body: &[u8], tamper: (&str, &str)) -> Vec<(&'static str, Vec<u8>, Headers)> {
    let now = unix_now();
    let ts = now.to_string();
    let text = std::str::from_utf8(body).expect("utf-8 body");
    let changed = text.replacen(tamper.0, tamper.1, 1).into_bytes();
    let differing = changed.iter().zip(body).filter(|(a, b)| a != b).count();
    assert_eq!(
        (changed.len(), differing),
        (body.len(), 1),
        "one byte changes"
    );
    let good = signed(&ts, body);
    let other_secret = format!("v0={}", mac("not-the-signing-secret", &ts, body));
    let v1 = format!("v1={}", mac(SIGNING_SECRET, &ts, body));
    let body = body.to_vec();
    vec![
        ("one body byte changed after signing", changed, good.clone()),
        (
            "signed with another secret",
            body.clone(),
            vec![(TS, ts.clone()), (SIG, other_secret)],
        ),
        (
            "a timestamp 301 s old",
            body.clone(),
            signed(&(now - 301).to_string(), &body),
        ),
        (
            "a timestamp 301 s ahead",
            body.clone(),
            signed(&(now + 301).to_string(), &body),
        ),
        ("no timestamp header", body.clone(), vec![good[1].clone()]),
        ("no signature header", body.clone(), vec![good[0].clone()]),
        (
            "a non-numeric timestamp",
            body.clone(),
            signed(&format!("{now}a"), &body),
        ),
        ("a v1= signature", body.clone(), vec![(TS, ts), (SIG, v1)]),
        ("no headers at all", body, vec![]),
    ]
}

/// Every table an inbound request could write to.
const TABLES: [&str; 6] = [
    "workspaces",
    "users",
    "teams",
    "members",
    "inbound_events",
    "outbox",
];

/// Row counts of [`TABLES`].
async fn stored(bot: &Bot) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&bot.app().db)
            .await
            .expect("count");
        counts.push((table, n));
    }
    counts
}

async fn count(bot: &Bot, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&bot.app().db)
        .await
        .expect("count")
}

/// Lets the delivery worker (200 ms poll) act on anything that was queued.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(700)).await;
}

async fn assert_untouched(bot: &Bot, fake: &FakeSlack, what: &str) {
    settle().await;
    let nothing: Vec<(&str, i64)> = stored(bot).await.into_iter().map(|(t, _)| (t, 0)).collect();
    assert_eq!(stored(bot).await, nothing, "{what} stored something");
    let calls: Vec<String> = fake.calls().iter().map(|c| c.method.clone()).collect();
    assert!(calls.is_empty(), "{what} caused Web API calls: {calls:?}");
}

async fn started(fake: &FakeSlack) -> Bot {
    for (i, (id, name)) in PEOPLE.iter().enumerate() {
        fake.add_user(id, name, "Europe/Berlin", i == 0);
    }
    bot::spawn(fake, Transport::Http).await
}

/// Every forgery on `path` gets 401 and leaves no trace; then the genuine request goes through.
async fn forgeries_are_refused(path: &str, body: String, tamper: (&str, &str)) -> (FakeSlack, Bot) {
    let fake = FakeSlack::start().await;
    let bot = started(&fake).await;
    for (what, sent, headers) in forgeries(body.as_bytes(), tamper) {
        let (status, _) = send(&bot, path, &sent, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} on {path}");
    }
    assert_untouched(&bot, &fake, &format!("a forged request to {path}")).await;
    let status = bot.post_signed(path, content_type(path), body).await;
    assert_eq!(status, StatusCode::OK, "the genuine request to {path}");
    (fake, bot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_slash_commands_get_401_and_change_nothing_while_a_signed_one_is_processed() {
    let form = fake_slack::slash_command_form(TEAM_ID, CHANNEL, "platform", "U1", "alice", "setup");
    let (fake, bot) =
        forgeries_are_refused("/slack/commands", form, ("user_id=U1", "user_id=U2")).await;
    bot.posted("the setup announcement", |p| {
        p.channel == CHANNEL && p.text.contains("set up in #platform")
    })
    .await;
    assert_eq!(count(&bot, "SELECT COUNT(*) FROM teams").await, 1);
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_interactions_get_401_and_change_nothing_while_a_signed_one_is_processed() {
    let payload = fake_slack::block_actions_payload(
        "U1",
        TEAM_ID,
        "DU1",
        "1700000000.000100",
        "answer:1:3",
        "answer:1:3",
        "7.1700000000.abc",
    );
    let form = fake_slack::interaction_form(&payload);
    let (fake, bot) = forgeries_are_refused("/slack/interactions", form, ("U1", "U2")).await;
    bot.posted("a private answer to the click", |p| {
        p.user.as_deref() == Some("U1")
    })
    .await;
    assert_eq!(count(&bot, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_events_get_401_and_change_nothing_while_a_signed_one_is_processed() {
    let event = fake_slack::event_callback(TEAM_ID, "Ev1", json!({"type": "app_uninstalled"}));
    let (_fake, bot) =
        forgeries_are_refused("/slack/events", event.to_string(), ("Ev1", "Ev2")).await;
    let seen: Vec<String> = sqlx::query_scalar("SELECT key FROM inbound_events")
        .fetch_all(&bot.app().db)
        .await
        .expect("keys");
    assert_eq!(seen, ["slack:evt:Ev1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_check_1_is_answered_without_processing_a_smuggled_command() {
    let fake = FakeSlack::start().await;
    let bot = started(&fake).await;
    let setup =
        fake_slack::slash_command_form(TEAM_ID, CHANNEL, "platform", "U1", "alice", "setup");
    let smuggled = format!("ssl_check=1&token=fake-verification-token&{setup}");
    let (status, _) = send_signed(&bot, "/slack/commands", &smuggled).await;
    assert_eq!(status, StatusCode::OK);
    for flag in ["ssl_check=0", "ssl_check=true"] {
        let body = format!("{flag}&{setup}");
        let (status, _) = send(&bot, "/slack/commands", body.as_bytes(), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "unsigned {flag}");
    }
    assert_untouched(&bot, &fake, "ssl_check").await;

    let status = bot
        .post_signed("/slack/commands", FORM, format!("ssl_check=0&{setup}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    bot.posted("the setup announcement", |p| {
        p.text.contains("set up in #platform")
    })
    .await;
    let join = fake_slack::slash_command_form(TEAM_ID, CHANNEL, "platform", "U2", "bob", "join");
    let status = bot
        .post_signed("/slack/commands", FORM, format!("ssl_check=true&{join}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        count(&bot, "SELECT COUNT(*) FROM members WHERE left_at IS NULL").await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_64_kib_get_413_on_every_slack_route() {
    let fake = FakeSlack::start().await;
    let bot = started(&fake).await;
    let limit = peerpulse::http::BODY_LIMIT;
    assert_eq!(limit, 64 * 1024);
    let pad = |prefix: &str, len: usize| format!("{prefix}{}", "a".repeat(len - prefix.len()));
    let too_big = [
        ("/slack/commands", pad("ssl_check=0&text=", limit + 1)),
        ("/slack/interactions", pad("payload=", limit + 1)),
        (
            "/slack/events",
            format!(
                "{{\"type\":\"url_verification\",\"challenge\":\"{}\"}}",
                "a".repeat(limit)
            ),
        ),
    ];
    for (path, body) in too_big {
        assert!(body.len() > limit);
        let status = bot.post_signed(path, content_type(path), body).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
    assert_untouched(&bot, &fake, "an oversized body").await;
    // Exactly 64 KiB is still accepted.
    let head = r#"{"type":"url_verification","challenge":"edge"}"#;
    let body = format!("{head}{}", " ".repeat(limit - head.len()));
    let (status, reply) = send_signed(&bot, "/slack/events", &body).await;
    assert_eq!(
        (status, reply.contains("edge")),
        (StatusCode::OK, true),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_verification_is_answered_with_the_challenge_only_when_signed() {
    let fake = FakeSlack::start().await;
    let bot = started(&fake).await;
    let body = json!({"token": "fake-verification-token", "type": "url_verification",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    .to_string();
    let (status, reply) = send_signed(&bot, "/slack/events", &body).await;
    assert_eq!(status, StatusCode::OK);
    let reply: Value = serde_json::from_str(&reply).expect("JSON answer");
    assert_eq!(
        reply["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    let (status, reply) = send(&bot, "/slack/events", body.as_bytes(), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!reply.contains("3eZbrw1a"), "{reply}");
}

/// Setup, five joins, `/pulse start`; returns once every member has a prompt.
async fn round_with_prompts(fake: &FakeSlack) -> Bot {
    let bot = started(fake).await;
    bot.command("U1", "alice", CHANNEL, "platform", "setup tz=Europe/Berlin")
        .await;
    for (id, name) in &PEOPLE[1..] {
        bot.command(id, name, CHANNEL, "platform", "join").await;
    }
    bot.command("U1", "alice", CHANNEL, "platform", "start")
        .await;
    bot.until("six prompts", || {
        PEOPLE.iter().all(|(id, _)| !prompts(fake, id).is_empty())
    })
    .await;
    bot
}

fn prompts(fake: &FakeSlack, user: &str) -> Vec<Posted> {
    let dm = fake.dm_channel(user);
    fake.posted()
        .into_iter()
        .filter(|p| {
            p.method == "chat.postMessage" && p.channel == dm && p.text.contains("Weekly check-in")
        })
        .collect()
}

/// Delivers one signed interaction four times, as Slack retries it (`X-Slack-Retry-Num`):
/// one after the other, or all at once (a retry racing the first delivery).
async fn deliver_four_times(bot: &Bot, payload: &Value, together: bool) {
    let form = fake_slack::interaction_form(payload);
    let deliver = |attempt: usize| {
        let mut headers = signed(&unix_now().to_string(), form.as_bytes());
        if attempt > 0 {
            headers.push(("X-Slack-Retry-Num", attempt.to_string()));
            headers.push(("X-Slack-Retry-Reason", "http_timeout".into()));
        }
        let form = form.clone();
        async move {
            let (status, _) = send(bot, "/slack/interactions", form.as_bytes(), &headers).await;
            assert_eq!(status, StatusCode::OK, "delivery {attempt}");
        }
    };
    if together {
        futures_util::future::join_all((0..4).map(deliver)).await;
    } else {
        for attempt in 0..4 {
            deliver(attempt).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_retried_three_times_and_an_ask_delivered_four_times_at_once_count_once() {
    let fake = FakeSlack::start().await;
    let bot = round_with_prompts(&fake).await;
    let prompt = prompts(&fake, "U2").remove(0);
    let four = prompt
        .buttons()
        .into_iter()
        .find(|b| b.text.starts_with("4 "))
        .expect("button 4");
    deliver_four_times(
        &bot,
        &fake.click_payload(&prompt, &four.action_id, "U2", TEAM_ID),
        false,
    )
    .await;
    let heavy = bot
        .posted("bob's offer of help", |p| {
            p.user.as_deref() == Some("U2") && p.text.contains("That sounds heavy")
        })
        .await;
    settle().await;
    assert_eq!(count(&bot, "SELECT COUNT(*) FROM answers").await, 1);
    assert_eq!(count(&bot, "SELECT COUNT(*) FROM participations").await, 1);
    let to_bob = |fake: &FakeSlack| -> Vec<Posted> {
        let dm = fake.dm_channel("U2");
        fake.posted()
            .into_iter()
            .filter(|p| p.channel == dm && p.ts != prompt.ts)
            .collect()
    };
    assert_eq!(to_bob(&fake).len(), 1, "one reply: {:#?}", to_bob(&fake));
    let updates = fake.calls_to("chat.update");
    assert_eq!(
        updates.len(),
        1,
        "the prompt's buttons are replaced once: {updates:#?}"
    );

    let ask = heavy
        .buttons()
        .into_iter()
        .find(|b| b.text == "Ask anonymously")
        .expect("ask button");
    deliver_four_times(
        &bot,
        &fake.click_payload(&heavy, &ask.action_id, "U2", TEAM_ID),
        true,
    )
    .await;
    let nudged = |fake: &FakeSlack, user: &str| {
        let dm = fake.dm_channel(user);
        fake.posted()
            .iter()
            .filter(|p| p.channel == dm && p.text.contains("could use a hand"))
            .count()
    };
    bot.until("five peers nudged", || {
        PEOPLE
            .iter()
            .filter(|(id, _)| nudged(&fake, id) > 0)
            .count()
            == 5
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(&bot, "SELECT COUNT(*) FROM asks").await, 1);
    assert_eq!(count(&bot, "SELECT COUNT(*) FROM nudges").await, 5);
    for (id, _) in PEOPLE {
        assert_eq!(nudged(&fake, id), usize::from(id != "U2"), "nudges to {id}");
    }
    let replies = to_bob(&fake);
    assert_eq!(replies.len(), 2, "one reply to the ask: {replies:#?}");
    assert!(
        !replies.iter().any(|p| p.text.contains("already")),
        "{replies:#?}"
    );
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_and_metrics_count_the_requests_in_prometheus_text() {
    let fake = FakeSlack::start().await;
    let bot = started(&fake).await;
    let get = |path: &str| bot.http.get(format!("{}{path}", bot.base)).send();
    assert_eq!(
        get("/healthz").await.expect("healthz").status(),
        StatusCode::OK
    );
    bot.command("U1", "alice", CHANNEL, "platform", "help")
        .await;
    bot.command("U2", "bob", CHANNEL, "platform", "help").await;
    let (status, _) = send(&bot, "/slack/commands", b"text=help", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let oversized = vec![b'a'; 65 * 1024];
    let (status, _) = send(&bot, "/slack/commands", &oversized, &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let response = get("/metrics").await.expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.expect("text");
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        assert!(
            value.parse::<f64>().is_ok() && (series.ends_with('}') || !series.contains('{')),
            "{line}"
        );
    }
    let expected = [
        "# TYPE peerpulse_http_requests_total counter",
        "peerpulse_http_requests_total{route=\"/slack/commands\",status=\"200\"} 2",
        "peerpulse_http_requests_total{route=\"/slack/commands\",status=\"401\"} 1",
        "peerpulse_http_requests_total{route=\"/slack/commands\",status=\"413\"} 1",
        "peerpulse_http_unauthorized_total{route=\"/slack/commands\"} 1",
        "# TYPE peerpulse_outbox_pending gauge",
        "# TYPE peerpulse_outbox_failed gauge",
    ];
    for line in expected {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
}

#[test]
fn the_manifest_points_at_the_given_url_and_asks_for_exactly_the_needed_scopes() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_peerpulse"))
        .args(["slack", "manifest", "--url", "https://x.example"])
        .output()
        .expect("peerpulse runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: Value = serde_json::from_slice(&output.stdout).expect("JSON manifest");
    let expected = [
        ("/features/slash_commands/0/command", "/pulse"),
        (
            "/features/slash_commands/0/url",
            "https://x.example/slack/commands",
        ),
        (
            "/settings/interactivity/request_url",
            "https://x.example/slack/interactions",
        ),
        (
            "/settings/event_subscriptions/request_url",
            "https://x.example/slack/events",
        ),
        (
            "/oauth_config/redirect_urls/0",
            "https://x.example/slack/oauth/callback",
        ),
    ];
    for (pointer, url) in expected {
        assert_eq!(manifest.pointer(pointer), Some(&json!(url)), "{pointer}");
    }
    let mut scopes: Vec<&str> = manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .expect("bot scopes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    scopes.sort_unstable();
    let needed = "chat:write commands files:write im:write users:read";
    assert_eq!(scopes.join(" "), needed);
    let user_scopes = manifest.pointer("/oauth_config/scopes/user");
    assert!(user_scopes.is_none(), "no user scopes: {user_scopes:?}");
}

//! Credentials coming and going, against the fake Slack: OAuth installs (tokens stored
//! encrypted, CSRF state), `app_uninstalled` / `tokens_revoked` events, and a bot token
//! revoked in the middle of a round: deliveries stop, nothing is lost, the log says why.
//! This binary installs a process-wide log capture, so it keeps to itself.

mod bot;
mod fake_slack;
mod support;

use std::time::Duration;

use bot::{Bot, SIGNING_SECRET, Transport};
use fake_slack::FakeSlack;
use peerpulse::platform::slack::SlackSettings;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FORM: &str = "application/x-www-form-urlencoded";

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
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

const CLIENT_ID: &str = "1111.2222";
const CLIENT_SECRET: &str = "oauth-client-secret";
const STATE_PURPOSE: &str = "slack-oauth-state";

/// A multi-workspace deployment: OAuth installs, no `SLACK_BOT_TOKEN`.
async fn multi_workspace(fake: &FakeSlack) -> Bot {
    fake.set_oauth_client(CLIENT_ID, CLIENT_SECRET);
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = SlackSettings {
        signing_secret: Some(SIGNING_SECRET.into()),
        bot_token: None,
        app_token: None,
        client_id: Some(CLIENT_ID.into()),
        client_secret: Some(CLIENT_SECRET.into()),
        api_url: fake.api_url(),
    };
    bot::spawn_with(fake, Transport::Http, bot::config(&dir), settings, dir).await
}

fn browser() -> reqwest::Client {
    let policy = reqwest::redirect::Policy::none();
    reqwest::Client::builder()
        .redirect(policy)
        .build()
        .expect("client")
}

/// `GET /slack/install`: the authorize URL's query and the state cookie.
async fn begin_install(bot: &Bot) -> (Vec<(String, String)>, String) {
    let response = browser()
        .get(format!("{}/slack/install", bot.base))
        .send()
        .await
        .expect("install");
    assert_eq!(response.status(), StatusCode::FOUND);
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let location = url::Url::parse(&header("location")).expect("a URL");
    let authorize = format!("{}/oauth/v2/authorize", bot.fake.base_url());
    assert_eq!(
        location.as_str().split('?').next(),
        Some(authorize.as_str())
    );
    let cookie = header("set-cookie");
    let value = cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("peerpulse_oauth_state="))
        .expect("state cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    (
        location.query_pairs().into_owned().collect(),
        value.to_string(),
    )
}

async fn callback(bot: &Bot, code: &str, state: &str, cookie: Option<&str>) -> StatusCode {
    let query = [("code", code), ("state", state)];
    let mut request = browser()
        .get(format!("{}/slack/oauth/callback", bot.base))
        .query(&query);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("other=1; peerpulse_oauth_state={cookie}"));
    }
    request.send().await.expect("callback").status()
}

async fn install(bot: &Bot, team: &str, token: &str) {
    let (query, cookie) = begin_install(bot).await;
    let state = query
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.clone())
        .expect("state");
    assert_eq!(state, cookie);
    bot.fake.oauth_code(&format!("code-{team}"), team, token);
    let status = callback(bot, &format!("code-{team}"), &state, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "install in {team}");
}

async fn command_in(bot: &Bot, team: &str, user: &str, text: &str) {
    let form = fake_slack::slash_command_form(team, "C9", "ops", user, "ops-admin", text);
    assert_eq!(
        bot.post_signed("/slack/commands", FORM, form).await,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_install_stores_the_token_encrypted_and_the_bot_posts_with_it() {
    let fake = FakeSlack::start().await;
    fake.add_user("U9", "ops-admin", "Europe/Berlin", true);
    let bot = multi_workspace(&fake).await;
    let (query, _) = begin_install(&bot).await;
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("client_id"), Some(CLIENT_ID));
    assert_eq!(
        get("scope"),
        Some("commands,chat:write,im:write,users:read,files:write")
    );
    install(&bot, "T9", "xoxb-t9-secret-token").await;
    let sealed: Vec<String> = sqlx::query_scalar("SELECT bot_token FROM workspace_tokens")
        .fetch_all(&bot.app().db)
        .await
        .expect("tokens");
    assert_eq!(sealed.len(), 1);
    assert!(
        !sealed[0].contains("xoxb") && !sealed[0].contains("t9-secret"),
        "{sealed:?}"
    );
    let slack = bot
        .running
        .as_ref()
        .and_then(|r| r.slack.clone())
        .expect("slack");
    assert_eq!(
        slack.tokens.key().open(&sealed[0]).expect("opens"),
        "xoxb-t9-secret-token"
    );

    command_in(&bot, "T9", "U9", "setup").await;
    bot.posted("the setup announcement", |p| p.channel == "C9")
        .await;
    let calls = fake.calls();
    let api: Vec<_> = calls
        .iter()
        .filter(|c| c.method != "oauth.v2.access")
        .collect();
    assert!(!api.is_empty());
    for call in api {
        assert_eq!(
            call.token.as_deref(),
            Some("xoxb-t9-secret-token"),
            "{call:#?}"
        );
    }
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expired_or_forged_state_or_a_missing_cookie_gets_403_and_stores_nothing() {
    let fake = FakeSlack::start().await;
    let bot = multi_workspace(&fake).await;
    fake.oauth_code("code-T7", "T7", "xoxb-t7-token");
    let (_, first) = begin_install(&bot).await;
    let (_, second) = begin_install(&bot).await;
    let slack = bot
        .running
        .as_ref()
        .and_then(|r| r.slack.clone())
        .expect("slack");
    let expired = slack
        .tokens
        .key()
        .sign_expiring(STATE_PURPOSE, unix_now() - 1);
    let other_key = peerpulse::secrets::SecretKey::from_hex(&"ab".repeat(32)).expect("key");
    let forged = other_key.sign_expiring(STATE_PURPOSE, unix_now() + 600);
    let mut tampered = first.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let cases = [
        (
            "another install's cookie",
            first.as_str(),
            Some(second.as_str()),
        ),
        ("no cookie", first.as_str(), None),
        ("an expired state", expired.as_str(), Some(expired.as_str())),
        (
            "a state signed with another key",
            forged.as_str(),
            Some(forged.as_str()),
        ),
        (
            "a tampered state",
            tampered.as_str(),
            Some(tampered.as_str()),
        ),
        ("a made-up state", "abc.def", Some("abc.def")),
    ];
    for (what, state, cookie) in cases {
        assert_eq!(
            callback(&bot, "code-T7", state, cookie).await,
            StatusCode::FORBIDDEN,
            "{what}"
        );
    }
    assert!(
        fake.calls_to("oauth.v2.access").is_empty(),
        "the code was never exchanged"
    );
    assert_eq!(
        count(&bot, "SELECT COUNT(*) FROM workspace_tokens").await,
        0
    );
    assert_eq!(count(&bot, "SELECT COUNT(*) FROM workspaces").await, 0);
    assert_eq!(
        callback(&bot, "code-T7", &second, Some(&second)).await,
        StatusCode::OK
    );
    assert_eq!(
        count(&bot, "SELECT COUNT(*) FROM workspace_tokens").await,
        1
    );
}

async fn installed(bot: &Bot, team: &str) -> (bool, bool) {
    let row: (i64, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM workspace_tokens t WHERE t.workspace_id = w.id), w.disabled_at
         FROM workspaces w WHERE w.external_id = $1",
    )
    .bind(team)
    .fetch_one(&bot.app().db)
    .await
    .expect("workspace");
    (row.0 == 1, row.1.is_none())
}

async fn event(bot: &Bot, team: &str, id: &str, event: Value) {
    let body = fake_slack::event_callback(team, id, event).to_string();
    assert_eq!(
        bot.post_signed("/slack/events", "application/json", body)
            .await,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_uninstalled_and_tokens_revoked_delete_the_token_and_disable_the_workspace() {
    let fake = FakeSlack::start().await;
    fake.add_user("U9", "ops-admin", "Europe/Berlin", true);
    let bot = multi_workspace(&fake).await;
    install(&bot, "T9", "xoxb-t9-token").await;
    install(&bot, "T8", "xoxb-t8-token").await;
    command_in(&bot, "T9", "U9", "setup").await;
    bot.posted("the setup announcement", |p| p.channel == "C9")
        .await;

    event(
        &bot,
        "T9",
        "EvUninstall",
        json!({"type": "app_uninstalled"}),
    )
    .await;
    assert_eq!(
        installed(&bot, "T9").await,
        (false, false),
        "T9: no token, disabled"
    );
    assert_eq!(installed(&bot, "T8").await, (true, true), "T8 is untouched");
    let user_tokens = json!({"type": "tokens_revoked", "tokens": {"oauth": ["U8"]}});
    event(&bot, "T8", "EvUserTokens", user_tokens).await;
    assert_eq!(
        installed(&bot, "T8").await,
        (true, true),
        "only user tokens were revoked"
    );
    let bot_tokens = json!({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTT8"]}});
    event(&bot, "T8", "EvBotTokens", bot_tokens).await;
    assert_eq!(
        installed(&bot, "T8").await,
        (false, false),
        "T8: no token, disabled"
    );

    let before = fake.calls().len();
    command_in(&bot, "T9", "U9", "help").await;
    settle().await;
    let after: Vec<_> = fake
        .calls()
        .into_iter()
        .skip(before)
        .map(|c| c.method)
        .collect();
    assert!(
        after.is_empty(),
        "nothing is sent to an uninstalled workspace: {after:?}"
    );
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_revoked_with_an_empty_bot_list_keeps_the_bot_token() {
    let fake = FakeSlack::start().await;
    let bot = multi_workspace(&fake).await;
    install(&bot, "T8", "xoxb-t8-token").await;
    // Only user (oauth) tokens were revoked; `bot` lists no bot user.
    let user_tokens = json!({"type": "tokens_revoked", "tokens": {"oauth": ["U8"], "bot": []}});
    event(&bot, "T8", "EvEmptyBotList", user_tokens).await;
    assert_eq!(
        installed(&bot, "T8").await,
        (true, true),
        "the bot token stays"
    );
}

const CHANNEL: &str = "C0PLATFORM";
const PEOPLE: [(&str, &str); 6] = [
    ("U1", "alice"),
    ("U2", "bob"),
    ("U3", "chen"),
    ("U4", "dana"),
    ("U5", "eli"),
    ("U6", "fay"),
];

async fn pending(bot: &Bot) -> i64 {
    count(
        bot,
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .await
}

async fn answer(bot: &Bot, fake: &FakeSlack, user: &str, score: &str) {
    let dm = fake.dm_channel(user);
    let prompt = bot
        .posted("a prompt", |p| {
            p.channel == dm && p.text.contains("Weekly check-in")
        })
        .await;
    bot.click(&prompt, &format!("{score} "), user).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_mid_round_stops_deliveries_loses_nothing_and_is_logged() {
    let log = support::logs::capture_logs(tracing::Level::WARN);
    let fake = FakeSlack::start().await;
    for (i, (id, name)) in PEOPLE.iter().enumerate() {
        fake.add_user(id, name, "Europe/Berlin", i == 0);
    }
    let mut bot = bot::spawn(&fake, Transport::Http).await;
    bot.command("U1", "alice", CHANNEL, "platform", "setup")
        .await;
    for (id, name) in &PEOPLE[1..] {
        bot.command(id, name, CHANNEL, "platform", "join").await;
    }
    bot.command("U1", "alice", CHANNEL, "platform", "start")
        .await;
    for (user, score) in [("U1", "3"), ("U2", "2"), ("U3", "1")] {
        answer(&bot, &fake, user, score).await;
    }
    bot.until("three answers confirmed", || {
        fake.posted()
            .iter()
            .filter(|p| p.text.contains("your check-in for #platform is in"))
            .count()
            == 3
    })
    .await;
    settle().await;
    assert_eq!(pending(&bot).await, 0, "everything so far was delivered");

    fake.revoke_token();
    for (user, score) in [("U4", "2"), ("U5", "3")] {
        answer(&bot, &fake, user, score).await;
    }
    bot.command("U1", "alice", CHANNEL, "platform", "close")
        .await;
    for _ in 0..100 {
        let disabled = "SELECT COUNT(*) FROM workspaces WHERE disabled_at IS NOT NULL";
        if count(&bot, disabled).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let disabled = "SELECT COUNT(*) FROM workspaces WHERE disabled_at IS NOT NULL";
    assert_eq!(count(&bot, disabled).await, 1, "the workspace is disabled");
    settle().await;
    let calls = fake.calls().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later: Vec<String> = fake.calls()[calls..]
        .iter()
        .map(|c| c.method.clone())
        .collect();
    assert!(later.is_empty(), "deliveries stopped, yet: {later:?}");
    let refused = fake.calls();
    let refused = refused
        .iter()
        .filter(|c| c.response["error"] == "token_revoked");
    assert!(refused.count() >= 1);

    assert_eq!(count(&bot, "SELECT COUNT(*) FROM answers").await, 5);
    let failed = "SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL";
    assert_eq!(count(&bot, failed).await, 0, "nothing given up");
    // Two confirmations, two prompt updates and the summary, at least, wait for a token.
    assert!(pending(&bot).await >= 5, "{}", pending(&bot).await);
    let summary = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL
                   AND body LIKE '%Weekly pulse%'";
    assert_eq!(count(&bot, summary).await, 1, "the summary waits");

    let text = log.text();
    let why = text
        .lines()
        .find(|l| l.contains("WARN") && l.contains("credentials") && l.contains("token_revoked"));
    assert!(why.is_some(), "the log says why: {text}");
    assert!(!text.contains(fake.bot_token()), "no token in the log");
    assert_eq!(fake.spec_violations(), Vec::<String>::new());

    // Reinstalled (a restart with a working token): what waited is delivered.
    bot.stop().await;
    let Bot { dir, .. } = bot;
    let fresh = FakeSlack::start().await;
    let config = bot::config(&dir);
    let settings = bot::settings(&fresh, Transport::Http);
    let bot = bot::spawn_with(&fresh, Transport::Http, config, settings, dir).await;
    let summary = bot
        .posted("the summary, late", |p| {
            p.channel == CHANNEL && p.text.contains("Weekly pulse")
        })
        .await;
    assert!(summary.text.contains("Responses: 5/6"), "{}", summary.text);
    for user in ["U4", "U5"] {
        bot.posted("the confirmation, late", |p| {
            p.user.as_deref() == Some(user) && p.text.contains("is in")
        })
        .await;
    }
    assert_eq!(fresh.spec_violations(), Vec::<String>::new());
}

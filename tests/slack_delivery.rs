//! Delivery to Slack against the fake: a storm of 429s, and Slack's `ok: false` answers mapped
//! to what they mean (a member whose account is gone leaves; a channel the bot cannot post in
//! is reported to the team's admin). Every Web API call must match Slack's description.

mod bot;
mod fake_slack;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bot::{Bot, Transport};
use fake_slack::{Call, FakeSlack, Posted};

const CHANNEL: &str = "C0PLATFORM";
const PEOPLE: [(&str, &str); 6] = [
    ("U1", "alice"),
    ("U2", "bob"),
    ("U3", "chen"),
    ("U4", "dana"),
    ("U5", "eli"),
    ("U6", "fay"),
];

/// Requests already on the wire when a 429 is answered may arrive just after it; they were
/// sent before the bot could know. Anything later than this counts as a new call.
const IN_FLIGHT: Duration = Duration::from_millis(100);

/// What the storm's 429s ask for (`rate_limit_first(20, 1)`); the fake's own tier limits
/// never ask for less.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// `#platform` set up by alice (a workspace admin) with the five others joined.
async fn team(fake: &FakeSlack) -> Bot {
    for (i, (id, name)) in PEOPLE.iter().enumerate() {
        fake.add_user(id, name, "Europe/Berlin", i == 0);
    }
    let bot = bot::spawn(fake, Transport::Http).await;
    bot.command("U1", "alice", CHANNEL, "platform", "setup tz=Europe/Berlin")
        .await;
    for (id, name) in &PEOPLE[1..] {
        bot.command(id, name, CHANNEL, "platform", "join").await;
    }
    bot.until("the joins are confirmed", || {
        fake.posted()
            .iter()
            .filter(|p| p.method == "chat.postEphemeral")
            .count()
            >= 6
    })
    .await;
    bot
}

/// Check-in prompts posted in `user`'s DM.
fn prompts(fake: &FakeSlack, user: &str) -> Vec<Posted> {
    let dm = fake.dm_channel(user);
    fake.posted()
        .into_iter()
        .filter(|p| {
            p.method == "chat.postMessage" && p.channel == dm && p.text.contains("Weekly check-in")
        })
        .collect()
}

/// Waits up to `secs` seconds for `check`.
async fn eventually(what: &str, secs: u64, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Calls of a method that came after one of its 429s but before its `Retry-After` ran out.
fn too_early(calls: &[Call]) -> Vec<String> {
    let mut by_method: BTreeMap<&str, Vec<&Call>> = BTreeMap::new();
    for call in calls {
        by_method.entry(&call.method).or_default().push(call);
    }
    let mut early = Vec::new();
    for (method, calls) in by_method {
        for limited in calls.iter().filter(|c| c.status == 429) {
            for next in calls.iter().filter(|c| c.at > limited.at) {
                let gap = next.at - limited.at;
                if gap > IN_FLIGHT && gap < RETRY_AFTER {
                    early.push(format!("{method}: a call {gap:?} after a 429"));
                }
            }
        }
    }
    early
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_429_storm_every_prompt_arrives_exactly_once_and_retry_after_is_honoured() {
    let fake = FakeSlack::start().await;
    let bot = team(&fake).await;
    let before = fake.calls().len();
    fake.rate_limit_first(20, 1);
    bot.command("U1", "alice", CHANNEL, "platform", "start")
        .await;
    eventually("six prompts through the storm", 40, || {
        PEOPLE.iter().all(|(id, _)| !prompts(&fake, id).is_empty())
    })
    .await;
    // Retries still in the outbox would show up as duplicates now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (id, _) in PEOPLE {
        assert_eq!(prompts(&fake, id).len(), 1, "prompts to {id}");
    }
    let calls: Vec<Call> = fake.calls().into_iter().skip(before).collect();
    let limited = calls.iter().filter(|c| c.status == 429).count();
    assert_eq!(limited, 20, "the storm hit the bot");
    assert_eq!(too_early(&calls), Vec::<String>::new());
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(&bot.app().db)
    .await
    .expect("count");
    assert_eq!(pending, 0, "nothing is left behind");
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

/// (platform user id, whether their membership has ended), for everyone in the team.
async fn memberships(bot: &Bot) -> Vec<(String, bool)> {
    sqlx::query_as(
        "SELECT u.external_id, m.left_at IS NOT NULL FROM members m JOIN users u ON u.id = m.user_id
         ORDER BY u.external_id",
    )
    .fetch_all(&bot.app().db)
    .await
    .expect("members")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_account_is_inactive_leaves_the_team() {
    let fake = FakeSlack::start().await;
    let bot = team(&fake).await;
    fake.fail_next("conversations.open", "account_inactive");
    bot.command("U1", "alice", CHANNEL, "platform", "start")
        .await;
    let refused = |fake: &FakeSlack| {
        fake.calls_to("conversations.open")
            .into_iter()
            .find(|c| c.response["error"] == "account_inactive")
    };
    eventually("five prompts and one refusal", 10, || {
        refused(&fake).is_some()
            && PEOPLE
                .iter()
                .filter(|(id, _)| !prompts(&fake, id).is_empty())
                .count()
                == 5
    })
    .await;
    let call = refused(&fake).expect("refused");
    let gone = call.params["users"].as_str().expect("users").to_string();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let expected: Vec<(String, bool)> = PEOPLE
        .iter()
        .map(|(id, _)| (id.to_string(), *id == gone))
        .collect();
    assert_eq!(
        memberships(&bot).await,
        expected,
        "{gone} left, nobody else"
    );
    assert!(prompts(&fake, &gone).is_empty());
    let opened = fake.calls_to("conversations.open");
    let retried = opened.iter().filter(|c| c.params["users"] == gone.as_str());
    assert_eq!(retried.count(), 1, "a gone member is not retried");

    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_summary_channel_is_gone_the_admin_is_told_how_to_fix_it() {
    let fake = FakeSlack::start().await;
    let bot = team(&fake).await;
    bot.command("U1", "alice", CHANNEL, "platform", "start")
        .await;
    bot.until("six prompts", || {
        PEOPLE.iter().all(|(id, _)| !prompts(&fake, id).is_empty())
    })
    .await;
    fake.remove_channel(CHANNEL);
    bot.command("U1", "alice", CHANNEL, "platform", "close")
        .await;
    let admin_dm = fake.dm_channel("U1");
    let told = bot
        .posted("a DM to the admin", |p| {
            p.channel == admin_dm && p.text.contains("#platform") && !p.text.contains("check-in")
        })
        .await;
    assert!(told.text.contains("channel_not_found"), "{}", told.text);
    assert!(told.text.contains("/invite"), "{}", told.text);
    assert!(told.text.contains("/pulse setup"), "{}", told.text);
    let summary: Vec<(Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT failed_at, last_error FROM outbox WHERE destination LIKE '%' || $1 || '%'
         AND body LIKE '%Weekly pulse%'",
    )
    .bind(CHANNEL)
    .fetch_all(&bot.app().db)
    .await
    .expect("summary row");
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert!(summary[0].0.is_some(), "given up, kept for the operator");
    assert_eq!(summary[0].1.as_deref(), Some("channel_not_found"));
    let others = PEOPLE[1..].iter().map(|(id, _)| fake.dm_channel(id));
    for dm in others {
        let posts = fake.posted();
        let extra = posts
            .iter()
            .filter(|p| p.channel == dm && !p.text.contains("Weekly check-in"));
        assert_eq!(extra.count(), 0, "only the admin is told ({dm})");
    }
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_retry_after_for_one_method_does_not_hold_up_other_messages() {
    let fake = FakeSlack::start().await;
    let bot = team(&fake).await;
    bot.command("U1", "alice", CHANNEL, "platform", "start")
        .await;
    eventually("six prompts", 20, || {
        PEOPLE.iter().all(|(id, _)| !prompts(&fake, id).is_empty())
    })
    .await;

    // Slack answers the first call after alice's click with a two-minute Retry-After.
    let before = fake.calls().len();
    fake.rate_limit_first(1, 120);
    let click = |id: &'static str| {
        let bot = &bot;
        let prompt = prompts(&fake, id).pop().expect("prompt");
        async move { bot.click(&prompt, "3 ", id).await }
    };
    click("U1").await;
    eventually("the 429", 10, || {
        fake.calls().iter().skip(before).any(|c| c.status == 429)
    })
    .await;
    let refused = fake
        .calls()
        .into_iter()
        .skip(before)
        .find(|c| c.status == 429)
        .expect("429");
    let limited = refused.method.clone();
    // The others click now: their calls of that method must wait.
    for (id, _) in &PEOPLE[1..] {
        click(id).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The summary is not stuck behind the calls that must wait.
    bot.command("U1", "alice", CHANNEL, "platform", "close")
        .await;
    eventually("the summary, long before the Retry-After ends", 15, || {
        fake.posted()
            .iter()
            .any(|p| p.channel == CHANNEL && p.text.contains("Weekly pulse"))
    })
    .await;
    let too_soon: Vec<Call> = fake
        .calls()
        .into_iter()
        .filter(|c| c.method == limited && c.at > refused.at + IN_FLIGHT)
        .collect();
    assert!(
        too_soon.is_empty(),
        "{limited} was called again before its Retry-After: {too_soon:#?}"
    );
    // The held messages wait in the outbox with no attempt counted.
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND attempts = 0",
    )
    .fetch_one(&bot.app().db)
    .await
    .expect("count");
    assert!(held >= 1, "the other {limited} calls are held, unattempted");
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_with_a_picture_is_posted_as_an_image_block_slack_accepts() {
    use peerpulse::domain::message::{Image, Message};
    use peerpulse::platform::slack::{api::SlackApi, blocks};

    let fake = FakeSlack::start().await;
    let api = SlackApi::new(&fake.api_url());
    for source in ["https://pulse.example.com/charts/7.png", "F0123456789"] {
        let message = Message {
            image: Some(Image {
                title: "Load over 6 weeks".into(),
                alt_text: "Mean load rose from 2.5 to 3.1 over six weeks".into(),
                source: source.into(),
            }),
            ..Message::text("Weekly pulse for #platform")
        };
        let (text, blocks) = blocks::render(&message);
        api.post_message(fake_slack::BOT_TOKEN, CHANNEL, &text, &blocks)
            .await
            .expect("posted");
    }
    let images: Vec<Posted> = fake
        .posted()
        .into_iter()
        .filter(|p| p.blocks.to_string().contains("\"type\":\"image\""))
        .collect();
    assert_eq!(images.len(), 2, "{:#?}", fake.posted());
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
}

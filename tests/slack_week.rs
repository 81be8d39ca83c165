//! A whole week on Slack, over signed HTTP and over Socket Mode, against the fake Slack:
//! setup, joins, a manual round, prompts as DMs, clicks taken from the bot's own blocks, a
//! stretched member who asks, a peer who offers, and the summary in the channel.

mod bot;
mod fake_slack;

use bot::{Bot, Transport};
use fake_slack::FakeSlack;

const CHANNEL: &str = "C0PLATFORM";
const PEOPLE: [(&str, &str); 6] = [
    ("U1", "alice"),
    ("U2", "bob"),
    ("U3", "chen"),
    ("U4", "dana"),
    ("U5", "eli"),
    ("U6", "fay"),
];

async fn whole_week(transport: Transport) {
    let fake = FakeSlack::start().await;
    for (i, (id, name)) in PEOPLE.iter().enumerate() {
        fake.add_user(id, name, "Europe/Berlin", i == 0);
    }
    let mut bot = bot::spawn(&fake, transport).await;

    bot.command("U1", "alice", CHANNEL, "platform", "setup tz=Europe/Berlin")
        .await;
    bot.posted("the setup announcement", |p| {
        p.channel == CHANNEL && p.text.contains("set up in #platform")
    })
    .await;
    for (id, name) in &PEOPLE[1..] {
        bot.command(id, name, CHANNEL, "platform", "join").await;
    }
    bot.until("six join confirmations and the admin's", || {
        fake.posted()
            .iter()
            .filter(|p| p.method == "chat.postEphemeral")
            .count()
            >= 6
    })
    .await;

    bot.command("U1", "alice", CHANNEL, "platform", "start")
        .await;
    let dm = |id: &str| fake.dm_channel(id);
    bot.until("six prompts as DMs", || {
        PEOPLE.iter().all(|(id, _)| {
            fake.posted()
                .iter()
                .any(|p| p.channel == dm(id) && p.text.contains("Weekly check-in"))
        })
    })
    .await;

    let scores = ["3", "4", "2", "2", "3", "1"];
    for ((id, _), score) in PEOPLE.iter().zip(scores) {
        let prompt = bot
            .posted("a prompt", |p| {
                p.channel == dm(id) && p.text.contains("Weekly check-in")
            })
            .await;
        bot.click(&prompt, &format!("{score} "), id).await;
    }
    let heavy = bot
        .posted("bob's private offer of help", |p| {
            p.method == "chat.postEphemeral"
                && p.user.as_deref() == Some("U2")
                && p.text.contains("That sounds heavy")
        })
        .await;
    bot.click(&heavy, "Ask anonymously", "U2").await;

    let nudge = bot
        .posted("a nudge to fay, who has no strain", |p| {
            p.channel == dm("U6") && p.text.contains("could use a hand")
        })
        .await;
    assert!(
        !nudge.text.contains("bob"),
        "an anonymous ask never names the asker: {}",
        nudge.text
    );
    bot.click(&nudge, "I can take something", "U6").await;
    let told = bot
        .posted("bob learns who offered", |p| {
            p.method == "chat.postMessage"
                && p.channel == dm("U2")
                && p.text.contains("from #platform can take something")
        })
        .await;
    assert!(told.text.contains("fay"), "{}", told.text);
    let thanks = bot
        .posted("fay is thanked", |p| {
            p.user.as_deref() == Some("U6") && p.text.contains("Thank you")
        })
        .await;
    assert!(!thanks.text.contains("bob"), "{}", thanks.text);

    bot.command("U1", "alice", CHANNEL, "platform", "close")
        .await;
    let summary = bot
        .posted("the summary in the channel", |p| {
            p.channel == CHANNEL && p.text.contains("Weekly pulse")
        })
        .await;
    assert!(summary.text.contains("Responses: 6/6"), "{}", summary.text);
    assert!(
        summary.text.contains("Asks for help: 1"),
        "{}",
        summary.text
    );

    // Each answered prompt had its buttons replaced.
    let updates = fake.calls_to("chat.update");
    assert_eq!(
        updates.iter().filter(|c| c.status == 200).count(),
        6,
        "{updates:#?}"
    );
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_week_over_signed_http() {
    whole_week(Transport::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_week_over_socket_mode() {
    whole_week(Transport::SocketMode).await;
}

#[allow(dead_code)]
fn _uses(_: &Bot) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_added_through_the_form_reaches_the_summary_without_a_name() {
    let fake = FakeSlack::start().await;
    for (i, (id, name)) in PEOPLE.iter().enumerate().take(5) {
        fake.add_user(id, name, "Europe/Berlin", i == 0);
    }
    let mut bot = bot::spawn(&fake, Transport::Http).await;
    bot.command("U1", "alice", CHANNEL, "platform", "setup")
        .await;
    for (id, name) in &PEOPLE[1..5] {
        bot.command(id, name, CHANNEL, "platform", "join").await;
    }
    bot.command("U1", "alice", CHANNEL, "platform", "start")
        .await;
    for (id, _) in &PEOPLE[..4] {
        let dm = fake.dm_channel(id);
        let prompt = bot
            .posted("a prompt", |p| {
                p.channel == dm && p.text.contains("Weekly check-in")
            })
            .await;
        bot.click(&prompt, "2 ", id).await;
    }
    let dm = fake.dm_channel("U5");
    let prompt = bot
        .posted("eli's prompt", |p| {
            p.channel == dm && p.text.contains("Weekly check-in")
        })
        .await;
    bot.click(&prompt, "Add a note", "U5").await;
    bot.until("the note form", || !fake.views_opened().is_empty())
        .await;
    let (_, view) = fake.views_opened().remove(0);
    assert_eq!(view["callback_id"], "peerpulse-note");
    let values = serde_json::json!({
        "load": {"score": {"type": "radio_buttons", "selected_option": {"value": "3"}}},
        "note": {"note": {"type": "plain_text_input", "value": "kiwi-marker: too many interviews"}}
    });
    let submission = fake_slack::view_submission_payload("U5", fake_slack::TEAM_ID, &view, values);
    bot.interact(&submission).await;
    bot.until("eli's answer", || {
        fake.posted().iter().any(|p| {
            p.user.as_deref() == Some("U5") && p.text.contains("check-in for #platform is in")
        })
    })
    .await;
    bot.command("U1", "alice", CHANNEL, "platform", "close")
        .await;
    let summary = bot
        .posted("the summary", |p| {
            p.channel == CHANNEL && p.text.contains("Weekly pulse")
        })
        .await;
    assert!(summary.text.contains("Responses: 5/5"), "{}", summary.text);
    assert!(
        summary.text.contains("kiwi-marker: too many interviews"),
        "{}",
        summary.text
    );
    assert!(!summary.text.contains("eli"), "{}", summary.text);
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_reconnects_after_a_disconnect_message_and_after_a_dropped_connection() {
    let fake = FakeSlack::start().await;
    fake.add_user("U1", "alice", "Europe/Berlin", true);
    let mut bot = bot::spawn(&fake, Transport::SocketMode).await;
    assert_eq!(fake.socket_connects_total(), 1);

    fake.socket_disconnect("refresh_requested").await;
    bot.until("a new connection after `disconnect`", || {
        fake.socket_connects_total() >= 2 && fake.socket_connections() > 0
    })
    .await;
    bot.command("U1", "alice", CHANNEL, "platform", "setup")
        .await;
    bot.posted("setup over the new connection", |p| {
        p.channel == CHANNEL && p.text.contains("set up in #platform")
    })
    .await;

    fake.socket_drop().await;
    bot.until("a new connection after a drop", || {
        fake.socket_connects_total() >= 3 && fake.socket_connections() > 0
    })
    .await;
    bot.command("U1", "alice", CHANNEL, "platform", "config")
        .await;
    bot.posted("config over the third connection", |p| {
        p.user.as_deref() == Some("U1") && p.text.contains("Settings of")
    })
    .await;
    // Every envelope was acknowledged with its own id.
    for ack in fake.socket_acks() {
        assert!(
            ack.get("envelope_id")
                .and_then(|v| v.as_str())
                .is_some_and(|id| !id.is_empty()),
            "{ack}"
        );
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_members_clicking_at_the_same_moment_each_record_one_answer_once() {
    const N: usize = 30;
    let fake = FakeSlack::start().await;
    let people: Vec<(String, String)> = (1..=N)
        .map(|i| (format!("U{i:03}"), format!("member{i}")))
        .collect();
    for (i, (id, name)) in people.iter().enumerate() {
        fake.add_user(id, name, "Europe/Berlin", i == 0);
    }
    let mut bot = bot::spawn(&fake, Transport::Http).await;
    let (admin, admin_name) = &people[0];
    bot.command(
        admin,
        admin_name,
        CHANNEL,
        "platform",
        "setup tz=Europe/Berlin",
    )
    .await;
    for (id, name) in &people[1..] {
        bot.command(id, name, CHANNEL, "platform", "join").await;
    }
    bot.command(admin, admin_name, CHANNEL, "platform", "start")
        .await;
    let dm = |id: &str| fake.dm_channel(id);
    bot.until("a prompt for everyone", || {
        people.iter().all(|(id, _)| {
            fake.posted()
                .iter()
                .any(|p| p.channel == dm(id) && p.text.contains("Weekly check-in"))
        })
    })
    .await;
    let prompts: Vec<_> = people
        .iter()
        .map(|(id, _)| {
            fake.posted()
                .into_iter()
                .find(|p| p.channel == dm(id) && p.text.contains("Weekly check-in"))
                .expect("prompt")
        })
        .collect();

    // Everyone clicks at once, and Slack delivers the first five clicks twice.
    let clicks = people
        .iter()
        .zip(&prompts)
        .enumerate()
        .map(|(i, ((id, _), prompt))| {
            let button = prompt
                .buttons()
                .into_iter()
                .find(|b| b.text.starts_with(&format!("{} ", i % 4 + 1)))
                .expect("load button");
            let payload = fake.click_payload(prompt, &button.action_id, id, fake_slack::TEAM_ID);
            let bot = &bot;
            async move {
                let twice = if i < 5 { 2 } else { 1 };
                futures_util::future::join_all((0..twice).map(|_| bot.interact(&payload))).await;
            }
        });
    futures_util::future::join_all(clicks).await;

    let db = sqlx::SqlitePool::connect(&bot.db_url)
        .await
        .expect("database");
    let answers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM answers")
        .fetch_one(&db)
        .await
        .expect("answers");
    assert_eq!(answers, N as i64, "one answer per member");
    bot.until("a thanks and a replaced prompt for everyone", || {
        let posted = fake.posted();
        people.iter().all(|(id, _)| {
            posted
                .iter()
                .filter(|p| {
                    p.method == "chat.postEphemeral"
                        && p.user.as_deref() == Some(id.as_str())
                        && p.text.contains("your check-in for #platform is in")
                })
                .count()
                == 1
        }) && fake.calls_to("chat.update").len() >= N
    })
    .await;
    let updates = fake.calls_to("chat.update");
    assert_eq!(updates.len(), N, "each prompt replaced once: {updates:#?}");
    assert!(
        fake.posted()
            .iter()
            .all(|p| !p.text.contains("already checked in")),
        "a repeated delivery is not a second answer"
    );
    assert_eq!(fake.spec_violations(), Vec::<String>::new());
    bot.stop().await;
}

//! Answer clicks that arrive together (as concurrent webhooks do) are recorded in one go.
//! Whatever the grouping, the outcome must be the one of the same clicks handled one by one:
//! the same answers, refusals, replies and streaks, repeats ignored, nothing linking a score
//! to a person.

mod support;

use futures_util::future::join_all;
use peerpulse::app::{self, Actor, ChannelRef, EventKind, Inbound, Origin, Workspace};
use peerpulse::domain::LoadScore;
use peerpulse::domain::action::Action;
use sqlx::SqlitePool;
use support::{Console, console, team};

const START: &str = "2026-11-30T09:00";
const NAMES: [&str; 7] = ["ann", "bob", "cat", "dan", "eve", "fay", "gus"];

/// A team of seven with a round open and everyone prompted.
async fn prompted_team() -> Console {
    let mut ws = console(START).await;
    team(&mut ws, &NAMES).await;
    ws.run("/as ann\n/pulse start").await;
    ws
}

async fn pool(ws: &Console) -> SqlitePool {
    SqlitePool::connect(&ws.url).await.expect("database")
}

/// The prompt id sent to each person.
async fn prompts(db: &SqlitePool) -> std::collections::HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT u.external_id, p.id FROM prompts p
         JOIN members m ON m.id = p.member_id JOIN users u ON u.id = m.user_id",
    )
    .fetch_all(db)
    .await
    .expect("prompts")
    .into_iter()
    .collect()
}

fn click(user: &str, prompt: i64, score: u8, key: Option<&str>) -> Inbound {
    Inbound {
        workspace: Workspace {
            platform: "console".into(),
            external_id: "local".into(),
        },
        actor: Actor {
            user_id: user.into(),
            name: user.into(),
            ..Actor::default()
        },
        channel: ChannelRef {
            id: format!("dm-{user}"),
            name: format!("dm-{user}"),
        },
        key: key.map(str::to_string),
        origin: Some(Origin {
            channel: format!("dm-{user}"),
            message: format!("msg-{prompt}"),
        }),
        kind: EventKind::Action(Action::Answer {
            prompt,
            score: LoadScore::try_from(score as i64).expect("score 1-5"),
        }),
    }
}

/// Clicks covering every way a click is taken or refused, plus a command among them.
async fn mixed_clicks(db: &SqlitePool) -> Vec<Inbound> {
    let p = prompts(db).await;
    let mut me = click("fay", 0, 1, Some("k-me"));
    me.kind = EventKind::Command(peerpulse::domain::command::Command::Me);
    vec![
        click("ann", p["ann"], 3, Some("k1")),
        // A second answer to the same prompt, in the same group.
        click("ann", p["ann"], 5, Some("k2")),
        // Someone else's prompt.
        click("bob", p["ann"], 2, Some("k3")),
        // A heavy load: the reply offers to ask for help.
        click("cat", p["cat"], 5, Some("k4")),
        // The same interaction delivered again.
        click("cat", p["cat"], 5, Some("k4")),
        // A prompt that does not exist.
        click("dan", 999_999, 2, Some("k5")),
        me,
        click("eve", p["eve"], 4, Some("k6")),
        click("gus", p["gus"], 1, Some("k7")),
    ]
}

/// Everything the clicks left: answers, participations, streaks and queued messages.
async fn outcome(db: &SqlitePool) -> Vec<String> {
    let mut rows = Vec::new();
    let answers: Vec<(i64, i64, Option<String>)> =
        sqlx::query_as("SELECT round_id, score, note FROM answers ORDER BY round_id, score")
            .fetch_all(db)
            .await
            .expect("answers");
    rows.extend(answers.iter().map(|a| format!("answer {a:?}")));
    let taken: Vec<(i64, String)> = sqlx::query_as(
        "SELECT x.round_id, u.external_id FROM participations x JOIN members m ON m.id = x.member_id
         JOIN users u ON u.id = m.user_id ORDER BY u.external_id",
    )
    .fetch_all(db)
    .await
    .expect("participations");
    rows.extend(taken.iter().map(|t| format!("participation {t:?}")));
    let streaks: Vec<(String, i64)> = sqlx::query_as(
        "SELECT u.external_id, m.streak FROM members m JOIN users u ON u.id = m.user_id
         ORDER BY u.external_id",
    )
    .fetch_all(db)
    .await
    .expect("streaks");
    rows.extend(streaks.iter().map(|s| format!("streak {s:?}")));
    let queued: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT dedupe_key, destination, body FROM outbox WHERE sent_at IS NULL ORDER BY dedupe_key",
    )
    .fetch_all(db)
    .await
    .expect("outbox");
    rows.extend(queued.iter().map(|q| format!("queued {q:?}")));
    rows
}

#[tokio::test]
async fn clicks_arriving_together_leave_what_the_same_clicks_one_by_one_leave() {
    let log = support::logs::capture_logs(tracing::Level::DEBUG);

    let alone = prompted_team().await;
    let alone_db = pool(&alone).await;
    for event in mixed_clicks(&alone_db).await {
        app::handle(alone.app(), event)
            .await
            .expect("event handled");
    }

    let together = prompted_team().await;
    let together_db = pool(&together).await;
    // On this single-threaded runtime every event is queued before the writer runs, so
    // they are written as one group.
    let events = mixed_clicks(&together_db).await;
    let results = join_all(events.into_iter().map(|e| app::handle(together.app(), e))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let logged = log.text();
    assert!(
        logged.contains("answers recorded together answers=4"),
        "the clicks were not recorded as a group:\n{logged}"
    );

    let expected = outcome(&alone_db).await;
    assert_eq!(outcome(&together_db).await, expected);
    let answers = expected.iter().filter(|r| r.starts_with("answer ")).count();
    assert_eq!(answers, 4, "ann, cat, eve and gus answered once each");
    let replies: Vec<&String> = expected
        .iter()
        .filter(|r| r.starts_with("queued (\"reply:k"))
        .collect();
    assert_eq!(
        replies.len(),
        8,
        "one reply per event but the repeat: {replies:#?}"
    );
    let refusal = |key: &str, text: &str| {
        assert!(
            replies
                .iter()
                .any(|r| r.contains(&format!("reply:{key}-error:1")) && r.contains(text)),
            "{key} should be refused with {text:?}: {replies:#?}"
        )
    };
    refusal("k2", "already checked in");
    refusal("k3", "meant for someone else");
    refusal("k5", "not one I recognise");
    assert!(
        replies
            .iter()
            .any(|r| r.contains("reply:k4:1") && r.contains("Ask anonymously")),
        "a heavy load is offered help: {replies:#?}"
    );
    assert!(expected.contains(&"streak (\"cat\", 1)".to_string()));
}

#[tokio::test]
async fn clicks_together_after_the_round_closed_are_refused_and_change_nothing() {
    let mut ws = prompted_team().await;
    let db = pool(&ws).await;
    let p = prompts(&db).await;
    ws.run("/as ann\n/pulse close").await;
    let before = outcome(&db).await;
    let events = vec![
        click("bob", p["bob"], 2, Some("late-1")),
        click("cat", p["cat"], 4, Some("late-2")),
    ];
    let results = join_all(events.into_iter().map(|e| app::handle(ws.app(), e))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let after = outcome(&db).await;
    let new: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    assert_eq!(new.len(), 2, "only the two refusals are new: {new:#?}");
    assert!(
        new.iter()
            .all(|r| r.contains("-error:1") && r.contains("round has closed"))
    );
}

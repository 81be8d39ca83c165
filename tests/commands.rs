//! Commands and clicks through the console workspace: bad input is explained privately and
//! changes nothing; admin-only commands are refused to others; `/pulse me`, pause and resume,
//! capacity, and a workspace reopened on the same database file.

mod support;

use support::{button, messages, team};

use std::collections::BTreeMap;

use peerpulse::config::Config;
use peerpulse::platform::console::Session;
use sqlx::{Row, SqlitePool};

const START: &str = "2026-11-29T12:00";

/// The button labelled `label` on the check-in prompt (not a reminder) sent to `@name`.
fn prompt_button(lines: &[String], name: &str, label: &str) -> String {
    let head = format!("bot → @{name} (dm): Weekly check-in");
    let start = lines
        .iter()
        .position(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no prompt for @{name} in {lines:#?}"));
    button(&lines[start..], name, label)
}

/// Bot messages addressed to `@name` (any kind).
fn messages_to(lines: &[String], name: &str) -> Vec<String> {
    let head = format!("bot → @{name} ");
    messages(lines)
        .into_iter()
        .filter(|m| m.starts_with(&head))
        .collect()
}

/// Check-in prompts (not reminders) sent to `@name` by DM.
fn prompts_to(lines: &[String], name: &str) -> usize {
    messages_to(lines, name)
        .iter()
        .filter(|m| m.contains("(dm): Weekly check-in"))
        .count()
}

/// Asserts that `out` is exactly one private reply to `@name`, short, and returns it.
#[track_caller]
fn one_private_reply(out: &[String], name: &str) -> String {
    let all = messages(out);
    assert_eq!(all.len(), 1, "expected one private reply: {all:#?}");
    let reply = all[0].clone();
    assert!(
        reply.starts_with(&format!("bot → @{name} (only you): ")),
        "{reply}"
    );
    let first = reply.lines().next().unwrap_or_default();
    assert!(first.chars().count() < 220, "not short: {first}");
    reply
}

/// Every row of every table (but the outbox, the console's button ids and seen events), as
/// sorted rows of text.
async fn dump(db: &SqlitePool) -> BTreeMap<String, Vec<Vec<Option<String>>>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY name",
    )
    .fetch_all(db)
    .await
    .expect("tables");
    let mut all = BTreeMap::new();
    for table in tables {
        if matches!(
            table.as_str(),
            "outbox" | "console_buttons" | "inbound_events"
        ) {
            continue;
        }
        let cols: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(&table)
                .fetch_all(db)
                .await
                .expect("columns");
        let select: Vec<String> = cols
            .iter()
            .map(|c| {
                format!(
                    "CASE WHEN typeof(\"{c}\") = 'blob' THEN hex(\"{c}\") \
                     ELSE CAST(\"{c}\" AS TEXT) END"
                )
            })
            .collect();
        let sql = format!("SELECT {} FROM \"{table}\"", select.join(", "));
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await
            .expect("rows");
        let mut rows: Vec<Vec<Option<String>>> = found
            .iter()
            .map(|r| {
                (0..cols.len())
                    .map(|i| r.get::<Option<String>, _>(i))
                    .collect()
            })
            .collect();
        rows.sort();
        all.insert(table, rows);
    }
    all
}

async fn scalar(db: &SqlitePool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.expect("scalar")
}

/// Runs `line` as `@name` and asserts it was refused with one short private reply containing
/// `says`, and that no table changed. Returns the reply.
async fn refused(ws: &mut support::Console, name: &str, line: &str, says: &str) -> String {
    let db = ws.app().db.clone();
    let before = dump(&db).await;
    let out = ws.run(&format!("/as {name}\n{line}")).await;
    let reply = one_private_reply(&out, name);
    assert!(reply.contains(says), "{line}: {reply}");
    assert_eq!(before, dump(&db).await, "{line} changed something");
    reply
}

#[tokio::test]
async fn malformed_commands_get_a_private_usage_line_and_change_nothing() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let prompts = ws.run("/clock next mon 10:00").await;
    ws.run(&format!(
        "/as chen\n/click {}",
        button(&prompts, "chen", "3 Full")
    ))
    .await;
    for line in [
        "/pulse frobnicate",
        "/pulse tz Mars/Base",
        "/pulse pause 2y",
        "/pulse pause",
        "/pulse pause until someday",
        "/pulse capacity maybe",
        "/pulse checkin 7 too much",
        "/pulse join now",
        "/pulse config min-group 2",
        "/pulse setup day=someday",
    ] {
        refused(&mut ws, "bob", line, "Usage: /pulse").await;
    }
    let reply = refused(&mut ws, "bob", "/pulse frobnicate", "Usage: /pulse").await;
    assert!(reply.contains("frobnicate"), "{reply}");
    let reply = refused(&mut ws, "bob", "/pulse tz Mars/Base", "Usage: /pulse").await;
    assert!(reply.contains("Mars/Base"), "{reply}");
}

#[tokio::test]
async fn a_click_on_someone_else_s_prompt_records_nothing() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let prompts = ws.run("/clock next mon 10:00").await;
    let alices = button(&prompts, "alice", "4 Stretched");
    refused(
        &mut ws,
        "bob",
        &format!("/click {alices}"),
        "meant for someone else",
    )
    .await;
    // The prompt still works for its owner.
    let out = ws.run(&format!("/as alice\n/click {alices}")).await;
    assert!(
        messages_to(&out, "alice")
            .iter()
            .any(|m| m.contains("your check-in for #team is in")),
        "{out:#?}"
    );
}

#[tokio::test]
async fn an_answer_after_the_round_closed_is_refused_and_records_nothing() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let prompts = ws.run("/clock next mon 10:00").await;
    ws.run(&format!(
        "/as alice\n/click {}",
        button(&prompts, "alice", "2 Comfortable")
    ))
    .await;
    let closed = ws.run("/clock next fri 16:00").await;
    assert!(
        messages(&closed)
            .iter()
            .any(|m| m.starts_with("bot → #team: Weekly pulse")),
        "{closed:#?}"
    );
    refused(
        &mut ws,
        "bob",
        "/pulse checkin 3 late-note",
        "No round is open",
    )
    .await;
    let bobs = button(&prompts, "bob", "3 Full");
    refused(
        &mut ws,
        "bob",
        &format!("/click {bobs}"),
        "This round has closed",
    )
    .await;
    let db = &ws.app().db;
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM answers").await, 1);
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM participations").await, 1);
}

#[tokio::test]
async fn a_second_answer_is_refused_and_records_nothing() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let prompts = ws.run("/clock next mon 10:00").await;
    ws.run(&format!(
        "/as bob\n/click {}",
        button(&prompts, "bob", "2 Comfortable")
    ))
    .await;
    let again = button(&prompts, "bob", "5 Overwhelmed");
    refused(
        &mut ws,
        "bob",
        &format!("/click {again}"),
        "already checked in",
    )
    .await;
    refused(
        &mut ws,
        "bob",
        "/pulse checkin 4 second-thoughts",
        "already checked in",
    )
    .await;
    refused(&mut ws, "bob", "/pulse checkin", "already checked in").await;
    // The same the other way round: a command first, then a button.
    ws.run("/as chen\n/pulse checkin 3 first").await;
    refused(
        &mut ws,
        "chen",
        &format!("/click {}", button(&prompts, "chen", "1 Light")),
        "already checked in",
    )
    .await;
    let db = &ws.app().db;
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM answers").await, 2);
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM participations").await, 2);
}

#[tokio::test]
async fn a_button_id_that_does_not_exist_is_refused_and_changes_nothing() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    ws.run("/clock next mon 10:00").await;
    let db = ws.app().db.clone();
    for id in ["b9999", "b0", "bx", "12"] {
        let before = dump(&db).await;
        let out = ws.run(&format!("/as bob\n/click {id}")).await;
        let after_as: Vec<&String> = out
            .iter()
            .skip_while(|l| l.starts_with("(you are"))
            .collect();
        assert!(
            after_as
                .iter()
                .any(|l| l.contains(id) || l.contains("not one I recognise")),
            "no explanation for /click {id}: {out:#?}"
        );
        assert!(
            messages(&out)
                .iter()
                .all(|m| m.starts_with("bot → @bob (only you)")),
            "{out:#?}"
        );
        assert_eq!(before, dump(&db).await, "/click {id} changed something");
    }
}

#[tokio::test]
async fn forged_action_ids_are_refused_and_change_nothing() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let prompts = ws.run("/clock next mon 10:00").await;
    let out = ws.run("/as bob\n/pulse ask").await;
    let nudges = ws
        .run(&format!(
            "/click {}",
            button(&out, "bob", "Ask with my name")
        ))
        .await;
    assert!(
        support::button_for(&nudges, "chen", "I can take something").is_some(),
        "{nudges:#?}"
    );
    let db = ws.app().db.clone();
    let alice_prompt: i64 = sqlx::query_scalar(
        "SELECT p.id FROM prompts p JOIN members m ON m.id = p.member_id
         JOIN users u ON u.id = m.user_id WHERE u.external_id = 'alice'",
    )
    .fetch_one(&db)
    .await
    .expect("prompt");
    let ask: i64 = scalar(&db, "SELECT id FROM asks").await;
    let forged = [
        ("chen", "answer:abc:3".to_string(), "not one I recognise"),
        ("chen", "answer:99999:3".to_string(), "not one I recognise"),
        (
            "chen",
            format!("answer:{alice_prompt}:6"),
            "not one I recognise",
        ),
        (
            "chen",
            format!("answer:{alice_prompt}:3"),
            "meant for someone else",
        ),
        ("chen", "drop-table:1".to_string(), "not one I recognise"),
        ("chen", "ask:999:anon".to_string(), "not one I recognise"),
        ("chen", "offer:99999".to_string(), "not one I recognise"),
        ("chen", "close-ask:99999".to_string(), "not one I recognise"),
        (
            "chen",
            format!("close-ask:{ask}"),
            "Only the person who asked",
        ),
        ("bob", format!("offer:{ask}"), "your own ask"),
        (
            "chen",
            format!("x{}", "9".repeat(80)),
            "not one I recognise",
        ),
    ];
    for (name, action, says) in forged {
        let id: i64 =
            sqlx::query_scalar("INSERT INTO console_buttons (action_id) VALUES ($1) RETURNING id")
                .bind(&action)
                .fetch_one(&db)
                .await
                .expect("forged button");
        let reply = refused(&mut ws, name, &format!("/click b{id}"), says).await;
        assert!(
            !reply.contains(&action),
            "the raw action id is echoed: {reply}"
        );
    }
    // The real prompt still works for its owner.
    let out = ws
        .run(&format!(
            "/as alice\n/click {}",
            button(&prompts, "alice", "1 Light")
        ))
        .await;
    assert!(
        messages_to(&out, "alice")
            .iter()
            .any(|m| m.contains("is in")),
        "{out:#?}"
    );
}

#[tokio::test]
async fn a_stale_prompt_button_from_a_closed_round_is_refused() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let week_one = ws.run("/clock next mon 10:00").await;
    let week_two = ws.run("/clock 2026-12-07T10:00").await;
    assert_eq!(prompts_to(&week_two, "bob"), 1, "{week_two:#?}");
    let stale = button(&week_one, "bob", "3 Full");
    refused(
        &mut ws,
        "bob",
        &format!("/click {stale}"),
        "This round has closed",
    )
    .await;
    let db = ws.app().db.clone();
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM answers").await, 0);
    // week_two also holds week one's reminders; the fresh button is on the new prompt.
    let fresh = prompt_button(&week_two, "bob", "3 Full");
    let out = ws.run(&format!("/as bob\n/click {fresh}")).await;
    assert!(
        messages_to(&out, "bob").iter().any(|m| m.contains("is in")),
        "{out:#?}"
    );
    let open_round: i64 = scalar(&db, "SELECT id FROM rounds WHERE closed_at IS NULL").await;
    let answered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM answers WHERE round_id = $1")
        .bind(open_round)
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(answered, 1);
}

#[tokio::test]
async fn an_offer_on_a_sorted_ask_is_refused() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let out = ws.run("/as bob\n/pulse ask").await;
    let nudges = ws
        .run(&format!(
            "/click {}",
            button(&out, "bob", "Ask with my name")
        ))
        .await;
    let offered = ws
        .run(&format!(
            "/as chen\n/click {}",
            button(&nudges, "chen", "I can take something")
        ))
        .await;
    ws.run(&format!(
        "/as bob\n/click {}",
        button(&offered, "bob", "Sorted, thanks")
    ))
    .await;
    refused(
        &mut ws,
        "alice",
        &format!(
            "/click {}",
            button(&nudges, "alice", "I can take something")
        ),
        "already sorted",
    )
    .await;
    refused(
        &mut ws,
        "chen",
        &format!("/click {}", button(&nudges, "chen", "I can take something")),
        "already",
    )
    .await;
}

#[tokio::test]
async fn only_the_admin_can_start_close_or_configure_a_round() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    refused(&mut ws, "bob", "/pulse start", "Only the admin").await;
    refused(
        &mut ws,
        "bob",
        "/pulse config min-group 3",
        "Only the admin",
    )
    .await;
    refused(&mut ws, "bob", "/pulse setup day=tue", "Only the admin").await;
    let db = ws.app().db.clone();
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM rounds").await, 0);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM prompts").await, 0);
    let started = ws.run("/as alice\n/pulse start").await;
    assert!(
        messages_to(&started, "alice")
            .iter()
            .any(|m| m.contains("Round started in #team: 3 member(s) prompted")),
        "{started:#?}"
    );
    for name in ["alice", "bob", "chen"] {
        assert_eq!(prompts_to(&started, name), 1, "{started:#?}");
    }
    refused(&mut ws, "bob", "/pulse close", "Only the admin").await;
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM rounds WHERE closed_at IS NULL").await,
        1
    );
}

#[tokio::test]
async fn pulse_me_lists_what_is_stored_about_the_person() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    ws.run("/as bob\n/pulse tz Europe/Berlin\n/pulse capacity on")
        .await;
    ws.run("/clock next mon 10:00").await;
    let out = ws.run("/as bob\n/pulse checkin 4 private-note").await;
    ws.run(&format!(
        "/click {}",
        button(&out, "bob", "Ask with my name")
    ))
    .await;
    let me = ws.run("/as bob\n/pulse me").await;
    let reply = one_private_reply(&me, "bob");
    for stored in [
        "name: bob (id bob)",
        "time zone: Europe/Berlin",
        "member of #team",
        "spare capacity on",
        "heavy rounds in a row 1",
        "checked in this round",
        "one open ask for help",
        "/pulse forget-me",
    ] {
        assert!(reply.contains(stored), "{stored:?} missing: {reply}");
    }
    for hidden in ["private-note", "Stretched", "admin", "paused"] {
        assert!(!reply.contains(hidden), "{hidden:?} shown: {reply}");
    }
    ws.run("/as alice\n/pulse pause until 2026-12-24").await;
    let reply = one_private_reply(&ws.run("/pulse me").await, "alice");
    for stored in [
        "name: alice (id alice)",
        "time zone: your team's",
        "spare capacity off",
        "heavy rounds in a row 0",
        "not checked in this round",
        "admin",
        "paused until",
    ] {
        assert!(reply.contains(stored), "{stored:?} missing: {reply}");
    }
}

#[tokio::test]
async fn a_paused_member_gets_no_prompt_that_week_and_resume_brings_prompts_back() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let paused = ws.run("/as bob\n/pulse pause 2w").await;
    let reply = one_private_reply(&paused, "bob");
    assert!(reply.contains("Paused until"), "{reply}");
    let week_one = ws.run("/clock next mon 10:00\n/clock next tue 12:00").await;
    assert_eq!(prompts_to(&week_one, "alice"), 1, "{week_one:#?}");
    assert_eq!(prompts_to(&week_one, "chen"), 1, "{week_one:#?}");
    assert!(messages_to(&week_one, "bob").is_empty(), "{week_one:#?}");
    let resumed = ws
        .run("/clock next wed 09:00\n/as bob\n/pulse resume")
        .await;
    assert!(
        messages_to(&resumed, "bob")
            .iter()
            .any(|m| m.contains("Welcome back")),
        "{resumed:#?}"
    );
    refused(&mut ws, "bob", "/pulse resume", "not paused").await;
    let week_two = ws.run("/clock 2026-12-07T10:00").await;
    for name in ["alice", "bob", "chen"] {
        assert_eq!(prompts_to(&week_two, name), 1, "@{name}: {week_two:#?}");
    }
}

#[tokio::test]
async fn a_paused_member_is_not_nudged_and_paused_until_a_date_skips_that_week() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen", "dana"]).await;
    ws.run("/as chen\n/pulse pause until 2026-12-06").await;
    let week_one = ws.run("/clock next mon 10:00").await;
    assert_eq!(prompts_to(&week_one, "chen"), 0, "{week_one:#?}");
    let out = ws.run("/as bob\n/pulse ask").await;
    let nudges = ws
        .run(&format!(
            "/click {}",
            button(&out, "bob", "Ask with my name")
        ))
        .await;
    assert!(messages_to(&nudges, "chen").is_empty(), "{nudges:#?}");
    assert_eq!(messages_to(&nudges, "alice").len(), 1, "{nudges:#?}");
    let week_two = ws.run("/clock 2026-12-07T10:00").await;
    assert_eq!(prompts_to(&week_two, "chen"), 1, "{week_two:#?}");
}

#[tokio::test]
async fn members_with_capacity_are_nudged_first() {
    let mut ws = support::console(START).await;
    let names = ["alice", "bob", "chen", "dana", "eli", "fay", "gus"];
    team(&mut ws, &names).await;
    ws.run("/as alice\n/pulse config fanout 2").await;
    ws.run("/as dana\n/pulse capacity on\n/as eli\n/pulse capacity on")
        .await;
    for asker in ["bob", "chen", "fay", "gus"] {
        let out = ws.run(&format!("/as {asker}\n/pulse ask")).await;
        let nudges = ws
            .run(&format!(
                "/click {}",
                button(&out, asker, "Ask with my name")
            ))
            .await;
        let nudged: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| support::button_for(&nudges, n, "I can take something").is_some())
            .collect();
        assert_eq!(nudged, ["dana", "eli"], "ask by @{asker}: {nudges:#?}");
    }
    // Once capacity is off, the others share the nudges.
    ws.run("/as dana\n/pulse capacity off\n/as eli\n/pulse capacity off")
        .await;
    let db = ws.app().db.clone();
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM members WHERE capacity <> 0").await,
        0
    );
}

async fn line(session: &mut Session, text: &str) -> Vec<String> {
    let mut printed = Vec::new();
    for l in text.lines() {
        let (_, mut out) = session.line(l).await.expect("line runs");
        printed.append(&mut out);
    }
    printed
}

#[tokio::test]
async fn a_reopened_workspace_continues_where_it_left_off_and_sends_nothing_twice() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let prompts = ws.run("/clock next mon 10:00").await;
    ws.run(&format!(
        "/as alice\n/click {}",
        button(&prompts, "alice", "2 Comfortable")
    ))
    .await;
    let support::Console { session, dir, url } = ws;
    drop(session);

    let mut reopened = Session::open(Config::default(), &url, support::at("2026-11-30T11:00"))
        .await
        .expect("reopens");
    let out = line(&mut reopened, "/as bob\n/in #team\n/clock +1m").await;
    assert!(
        messages(&out).is_empty(),
        "something was sent again: {out:#?}"
    );
    // A button printed before the restart still works.
    let out = line(
        &mut reopened,
        &format!("/click {}", button(&prompts, "bob", "3 Full")),
    )
    .await;
    assert!(
        messages_to(&out, "bob")
            .iter()
            .any(|m| m.contains("your check-in for #team is in")),
        "{out:#?}"
    );
    let out = line(&mut reopened, "/pulse checkin 4").await;
    assert!(
        messages_to(&out, "bob")
            .iter()
            .any(|m| m.contains("already checked in")),
        "{out:#?}"
    );
    let out = line(&mut reopened, "/clock next tue 12:00").await;
    let reminders: Vec<String> = messages(&out)
        .into_iter()
        .filter(|m| m.contains("gentle reminder"))
        .collect();
    assert_eq!(reminders.len(), 1, "{out:#?}");
    assert!(
        reminders[0].starts_with("bot → @chen (dm)"),
        "{reminders:#?}"
    );
    drop(reopened);

    // A third opening, later in the week: still nothing twice, and the round closes once.
    let mut third = Session::open(Config::default(), &url, support::at("2026-12-01T13:00"))
        .await
        .expect("reopens");
    let out = line(&mut third, "/as chen\n/in #team\n/clock next fri 16:00").await;
    let all = messages(&out);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(all[0].starts_with("bot → #team: Weekly pulse"), "{all:#?}");
    assert!(all[0].contains("Responses: 2/3"), "{all:#?}");
    let out = line(&mut third, "/clock +1h").await;
    assert!(messages(&out).is_empty(), "{out:#?}");
    let db = third.app().db.clone();
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM summaries").await, 1);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM prompts").await, 3);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        )
        .await,
        0,
        "nothing is left to send"
    );
    drop(third);
    drop(dir);
}

#[tokio::test]
async fn a_team_whose_admin_erased_their_data_gets_a_new_admin_only_by_claiming_it() {
    let mut ws = support::console("2026-11-29T12:00").await;
    ws.run("/as alice\n/in #team\n/pulse setup\n/as bob\n/pulse join\n/as alice\n/pulse forget-me")
        .await;
    let out = ws.run("/as bob\n/pulse start").await;
    assert!(
        out.iter().any(|l| l.contains("has no admin right now")),
        "{out:#?}"
    );
    let out = ws.run("/pulse setup").await;
    assert!(
        out.iter().any(|l| l.contains("You're the admin")),
        "{out:#?}"
    );
    let out = ws.run("/pulse start").await;
    assert!(out.iter().any(|l| l.contains("Round started")), "{out:#?}");
    let out = ws.run("/as carol\n/pulse join\n/pulse close").await;
    assert!(out.iter().any(|l| l.contains("Only the admin")), "{out:#?}");
}

#[tokio::test]
async fn a_member_with_no_time_zone_of_their_own_sees_a_pause_in_the_team_s() {
    let mut ws = support::console(START).await;
    ws.run("/as alice\n/in #team\n/pulse setup tz=America/New_York\n/as bob\n/pulse join")
        .await;
    let out = ws.run("/as bob\n/pulse pause until 2026-12-24").await;
    let reply = messages_to(&out, "bob").join("\n");
    // The day after the 24th begins at midnight in New York: 05:00 UTC.
    assert!(
        reply.contains("Paused until Fri 25 Dec 00:00 (America/New_York)"),
        "{reply}"
    );
    let out = ws.run("/pulse me").await;
    let me = messages_to(&out, "bob").join("\n");
    assert!(
        me.contains("paused until Fri 25 Dec 00:00 (America/New_York)"),
        "{me}"
    );
}

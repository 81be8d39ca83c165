//! Privacy rules (DESIGN.md section 3), checked end to end through the console workspace and
//! the database file it writes: nothing links an answer to a member, logs hold no score next
//! to a person, small groups show only a count, erasure erases, and volunteers never learn who
//! asked anonymously.

mod support;

use support::{button, messages, team};

use sqlx::{Row, SqlitePool};

const START: &str = "2026-11-29T12:00";

fn messages_to<'a>(all: &'a [String], name: &str) -> Vec<&'a String> {
    let head = format!("bot → @{name} ");
    all.iter().filter(|m| m.starts_with(&head)).collect()
}

async fn tables(db: &SqlitePool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY name",
    )
    .fetch_all(db)
    .await
    .expect("tables")
}

async fn columns(db: &SqlitePool, table: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
        .bind(table)
        .fetch_all(db)
        .await
        .expect("columns")
}

/// Every row of `table`, every cell read as text.
async fn rows(db: &SqlitePool, table: &str) -> Vec<Vec<Option<String>>> {
    let cols = columns(db, table).await;
    let select: Vec<String> = cols
        .iter()
        .map(|c| {
            format!("CASE WHEN typeof(\"{c}\") = 'blob' THEN hex(\"{c}\") ELSE CAST(\"{c}\" AS TEXT) END")
        })
        .collect();
    let sql = format!("SELECT {} FROM \"{table}\"", select.join(", "));
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db)
        .await
        .expect("rows");
    found
        .iter()
        .map(|r| {
            (0..cols.len())
                .map(|i| r.get::<Option<String>, _>(i))
                .collect()
        })
        .collect()
}

async fn count(db: &SqlitePool, sql: &'static str, bind: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(db)
        .await
        .expect("count")
}

async fn user_id(db: &SqlitePool, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE external_id = $1")
        .bind(name)
        .fetch_one(db)
        .await
        .expect("user exists")
}

async fn member_id(db: &SqlitePool, name: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.external_id = $1",
    )
    .bind(name)
    .fetch_one(db)
    .await
    .expect("member exists")
}

/// The kind of an outbox destination (`dm`, `private`, `channel`), or `None` once cleared.
fn destination_kind(destination: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(destination).expect("destination json");
    value
        .get("kind")
        .and_then(|k| k.as_str())
        .map(str::to_owned)
}

/// One week in a team of six: answers by button and by command with marker notes, a
/// stretched member who asks anonymously, a volunteer who offers, a reminder, and the summary.
/// Returns everything printed.
async fn a_week(ws: &mut support::Console, names: [&str; 6], markers: &[String; 6]) -> Vec<String> {
    let [a, b, c, d, e, f] = names;
    let mut printed = team(ws, &names).await;
    printed.extend(ws.run(&format!("/as {f}\n/pulse capacity on")).await);
    let prompts = ws.run("/clock next mon 10:00").await;
    printed.extend(prompts.clone());
    let a_button = button(&prompts, a, "2 Comfortable");
    let out = ws
        .run(&format!(
            "/as {a}\n/click {a_button}\n/as {b}\n/pulse checkin 4 {}",
            markers[1]
        ))
        .await;
    let ask = button(&out, b, "Ask anonymously");
    printed.extend(out);
    let out = ws
        .run(&format!(
            "/click {ask}\n/as {c}\n/pulse checkin 2 {}\n/as {d}\n/pulse checkin",
            markers[2]
        ))
        .await;
    let d_button = button(&out, d, "3 Full");
    printed.extend(out);
    printed.extend(ws.run(&format!("/click {d_button}")).await);
    let nudges = ws.run("/clock +31m").await;
    let offer = button(&nudges, f, "I can take something");
    printed.extend(nudges);
    printed.extend(
        ws.run(&format!(
            "/as {f}\n/click {offer}\n/pulse checkin 3 {}",
            markers[5]
        ))
        .await,
    );
    // The reminder reaches the one who has not answered; they answer the next day.
    printed.extend(
        ws.run(&format!(
            "/clock next tue 12:00\n/as {e}\n/pulse checkin 1 {}",
            markers[4]
        ))
        .await,
    );
    printed.extend(ws.run("/clock next fri 16:00").await);
    printed
}

#[tokio::test]
async fn after_a_round_no_row_links_a_score_or_note_to_a_member() {
    let mut ws = support::console(START).await;
    let names = ["alice", "bob", "chen", "dana", "eli", "fay"];
    let markers = names.map(|n| format!("zebra-note-{n}"));
    let printed = a_week(&mut ws, names, &markers).await;
    let all = messages(&printed);
    let summary = all
        .iter()
        .find(|m| m.starts_with("bot → #team: Weekly pulse"))
        .unwrap_or_else(|| panic!("no summary in {all:#?}"));
    assert!(summary.contains("Responses: 6/6"), "{summary}");
    for marker in [&markers[1], &markers[2], &markers[4], &markers[5]] {
        assert!(summary.contains(marker.as_str()), "{marker} in {summary}");
    }
    assert!(
        messages_to(&all, "bob")
            .iter()
            .any(|m| m.contains("@fay from #team can take something off your plate")),
        "{all:#?}"
    );

    let db = &ws.app().db;
    let tables = tables(db).await;
    for expected in [
        "answers",
        "participations",
        "members",
        "users",
        "outbox",
        "summaries",
    ] {
        assert!(
            tables.iter().any(|t| t == expected),
            "{expected} in {tables:?}"
        );
    }

    // The answers table holds what was answered and nothing about who or when.
    assert_eq!(
        columns(db, "answers").await,
        ["id", "round_id", "score", "note"]
    );
    for table in &tables {
        if table == "answers" {
            continue;
        }
        let cols = columns(db, table).await;
        assert!(
            !cols.iter().any(|c| c == "score" || c == "note"),
            "{table} has a score or note column: {cols:?}"
        );
    }
    assert_eq!(
        columns(db, "participations").await,
        ["round_id", "member_id"]
    );
    let answers_sql: String = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'answers'",
    )
    .fetch_one(db)
    .await
    .expect("answers sql");
    assert!(
        answers_sql.to_uppercase().contains("WITHOUT ROWID"),
        "{answers_sql}"
    );
    assert!(
        sqlx::query("SELECT rowid FROM answers")
            .fetch_all(db)
            .await
            .is_err(),
        "answers must have no rowid"
    );

    // Their keys are random: long, hex, distinct, sharing no telling prefix.
    let answers = rows(db, "answers").await;
    assert_eq!(answers.len(), 6, "{answers:?}");
    let ids: Vec<String> = answers.iter().map(|r| r[0].clone().expect("id")).collect();
    for id in &ids {
        assert!(
            id.len() >= 16 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "not a random key: {id}"
        );
        assert!(id.parse::<u64>().is_err(), "a counter-like key: {id}");
    }
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    let shared_prefix =
        |x: &str, y: &str| x.chars().zip(y.chars()).take_while(|(a, b)| a == b).count();
    for (i, x) in ids.iter().enumerate() {
        for y in &ids[i + 1..] {
            assert!(shared_prefix(x, y) < 8, "keys look sequential: {ids:?}");
        }
    }

    // A marker note lives only in answers, summaries and messages posted to the channel.
    let outbox_cols = columns(db, "outbox").await;
    let col = |name: &str| outbox_cols.iter().position(|c| c == name).expect(name);
    let (destination, body, user, sent) = (
        col("destination"),
        col("body"),
        col("user_id"),
        col("sent_at"),
    );
    for table in &tables {
        for row in rows(db, table).await {
            let text = row
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" | ");
            for marker in &markers {
                if !text.contains(marker.as_str()) {
                    continue;
                }
                match table.as_str() {
                    "answers" | "summaries" => {}
                    "outbox" => {
                        let to = row[destination].clone().unwrap_or_default();
                        assert_eq!(
                            destination_kind(&to).as_deref(),
                            Some("channel"),
                            "a note in a message to a person: {text}"
                        );
                    }
                    _ => panic!("{marker} found in table {table}: {text}"),
                }
            }
        }
    }

    // Messages to a person keep neither body, address nor person once delivered.
    for row in rows(db, "outbox").await {
        let to = row[destination].clone().unwrap_or_default();
        assert!(row[sent].is_some(), "undelivered message: {row:?}");
        if destination_kind(&to).as_deref() == Some("channel") {
            continue;
        }
        assert_eq!(
            row[body], None,
            "a message to a person kept its body: {row:?}"
        );
        assert_eq!(
            row[user], None,
            "a message to a person kept its user: {row:?}"
        );
        for name in names {
            assert!(
                !to.contains(name),
                "a delivered message kept its address: {row:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_personal_check_on_message_leaves_no_row_tying_the_member_to_a_heavy_answer() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    ws.run("/as alice\n/pulse config streak 1").await;
    ws.run("/clock next mon 10:00").await;
    let out = ws.run("/as bob\n/pulse checkin 4").await;
    assert!(
        messages(&out)
            .iter()
            .any(|m| m.starts_with("bot → @bob (dm): You've told me your load was heavy")),
        "{out:#?}"
    );
    let db = &ws.app().db;
    let (bob_member, bob_user) = (member_id(db, "bob").await, user_id(db, "bob").await);
    let round: i64 = sqlx::query_scalar("SELECT id FROM rounds")
        .fetch_one(db)
        .await
        .expect("round");
    // Rule 1: the streak counter is the only per-person strain state; no other row may say
    // that this member answered 4-5 in this round, delivered or not.
    let rows: Vec<(String, Option<i64>, String)> =
        sqlx::query_as("SELECT dedupe_key, user_id, destination FROM outbox")
            .fetch_all(db)
            .await
            .expect("outbox");
    for (key, user, to) in &rows {
        let parts: Vec<&str> = key.split(':').collect();
        let names_member = parts.contains(&bob_member.to_string().as_str())
            || parts.contains(&bob_user.to_string().as_str());
        let names_round = parts.contains(&round.to_string().as_str());
        assert!(
            !(key.starts_with("streak") && (names_member || names_round)),
            "the outbox keeps a row saying member {bob_member} was heavy in round {round}: \
             {key} (user {user:?}, to {to})"
        );
    }
}

#[tokio::test]
async fn trace_logs_of_a_whole_week_hold_no_score_next_to_a_member() {
    let buffer = support::logs::capture_logs(tracing::Level::TRACE);
    tracing::info!("trace capture is on");
    let mut ws = support::console(START).await;
    let names = ["quokka", "wombat", "numbat", "bilby", "potoroo", "bettong"];
    let markers = names.map(|n| format!("marsupial-note-{n}"));
    let printed = a_week(&mut ws, names, &markers).await;
    assert!(
        printed.iter().any(|l| l.contains("Responses: 6/6")),
        "{printed:#?}"
    );
    let log = buffer.text();
    assert!(log.contains("trace capture is on"), "capture works");
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "captured at trace level"
    );
    assert!(
        log.to_lowercase().contains("insert into answers"),
        "the database driver's statements are captured too"
    );
    for marker in &markers {
        assert!(!log.contains(marker.as_str()), "{marker} was logged");
    }
    for line in log.lines() {
        let lower = line.to_lowercase();
        let score_like = lower.contains("score") || lower.contains("load");
        let person = names.iter().find(|n| lower.contains(*n));
        assert!(
            !(score_like && person.is_some()),
            "a score-like field next to @{}: {line}",
            person.unwrap_or(&"")
        );
        // An action id `answer:<prompt>:<score>` ties a score to a prompt, hence a member.
        let action_id = lower.match_indices("answer:").any(|(i, _)| {
            let rest = &lower[i + "answer:".len()..];
            let mut parts = rest.splitn(3, ':');
            let prompt = parts.next().unwrap_or("");
            let score = parts.next().unwrap_or("");
            !prompt.is_empty()
                && prompt.chars().all(|c| c.is_ascii_digit())
                && score.starts_with(|c: char| c.is_ascii_digit())
        });
        assert!(!action_id, "an answer's action id was logged: {line}");
    }
}

/// Six members; `answering` of them answer (with notes), one of whom asks by name and gets an
/// offer; the admin closes the round. Returns everything printed.
async fn off_schedule_round(ws: &mut support::Console, answering: usize) -> Vec<String> {
    let names = ["alice", "bob", "chen", "dana", "eli", "fay"];
    team(ws, &names).await;
    let mut printed = ws
        .run("/as alice\n/pulse config min-group 5\n/pulse start")
        .await;
    for name in &names[..answering] {
        let score = if *name == "bob" { 4 } else { 2 };
        let out = ws
            .run(&format!(
                "/as {name}\n/pulse checkin {score} quiet-note-{name}"
            ))
            .await;
        if *name == "bob" {
            let ask = button(&out, "bob", "Ask with my name");
            let nudges = ws.run(&format!("/click {ask}")).await;
            let offer = button(&nudges, "fay", "I can take something");
            printed.extend(nudges);
            printed.extend(ws.run(&format!("/as fay\n/click {offer}")).await);
        }
        printed.extend(out);
    }
    printed.extend(ws.run("/as alice\n/pulse close").await);
    printed
}

fn summary_of(printed: &[String]) -> String {
    messages(printed)
        .into_iter()
        .find(|m| m.starts_with("bot → #team: Weekly pulse"))
        .unwrap_or_else(|| panic!("no summary in {printed:#?}"))
}

#[tokio::test]
async fn a_summary_of_fewer_answers_than_the_minimum_group_shows_only_the_count() {
    let mut ws = support::console(START).await;
    let printed = off_schedule_round(&mut ws, 4).await;
    let summary = summary_of(&printed);
    assert!(summary.contains("Responses: 4/6"), "{summary}");
    assert!(
        summary.contains("Fewer than 5 people answered"),
        "{summary}"
    );
    for hidden in [
        "Load:",
        "Mean",
        "mean",
        "quiet-note",
        "Notes",
        "Asks",
        "offers",
        "Signals",
        "%",
    ] {
        assert!(!summary.contains(hidden), "{hidden:?} shown in {summary}");
    }
    let db = &ws.app().db;
    let (mean, distribution): (Option<f64>, Option<String>) =
        sqlx::query_as("SELECT mean, distribution FROM summaries")
            .fetch_one(db)
            .await
            .expect("summary row");
    assert_eq!((mean, distribution), (None, None));
    // The command view shows no more than the channel did.
    let view = messages(&ws.run("/as bob\n/pulse summary").await).join("\n");
    assert!(view.contains("Responses: 4/6"), "{view}");
    for hidden in ["Load:", "Mean", "quiet-note", "Asks"] {
        assert!(!view.contains(hidden), "{hidden:?} shown in {view}");
    }
}

#[tokio::test]
async fn a_summary_of_the_minimum_group_shows_everything() {
    let mut ws = support::console(START).await;
    let printed = off_schedule_round(&mut ws, 5).await;
    let summary = summary_of(&printed);
    assert!(summary.contains("Responses: 5/6"), "{summary}");
    assert!(
        summary.contains("Load: Light 0 · Comfortable 4 · Full 0 · Stretched 1 · Overwhelmed 0"),
        "{summary}"
    );
    assert!(summary.contains("Mean load: 2.4 / 5"), "{summary}");
    for name in ["alice", "bob", "chen", "dana", "eli"] {
        assert!(summary.contains(&format!("quiet-note-{name}")), "{summary}");
    }
    assert!(
        summary.contains("Asks for help: 1 · offers: 1"),
        "{summary}"
    );
    assert!(!summary.contains("Fewer than"), "{summary}");
}

#[tokio::test]
async fn forget_me_erases_every_row_of_the_member_but_their_answers_still_count() {
    let mut ws = support::console(START).await;
    let names = ["alice", "bob", "chen", "dana", "eve", "fay"];
    team(&mut ws, &names).await;
    ws.run("/as eve\n/pulse capacity on").await;

    // Week 1: everyone answers; eve offers on bob's ask and asks for help herself.
    let prompts = ws.run("/clock next mon 10:00").await;
    let mut script = String::new();
    for name in ["alice", "chen", "dana", "fay"] {
        script.push_str(&format!(
            "/as {name}\n/click {}\n",
            button(&prompts, name, "2 Comfortable")
        ));
    }
    ws.run(&script).await;
    let out = ws.run("/as bob\n/pulse checkin 4").await;
    ws.run(&format!(
        "/click {}",
        button(&out, "bob", "Ask anonymously")
    ))
    .await;
    let nudges = ws.run("/clock +31m").await;
    let offer = button(&nudges, "eve", "I can take something");
    ws.run(&format!(
        "/as eve\n/click {offer}\n/pulse checkin 3 eve-week-one"
    ))
    .await;
    let out = ws.run("/as eve\n/pulse ask").await;
    let nudges = ws
        .run(&format!(
            "/click {}",
            button(&out, "eve", "Ask with my name")
        ))
        .await;
    assert!(
        messages_to(&messages(&nudges), "fay")
            .iter()
            .any(|m| m.contains("@eve in #team is stretched")),
        "{nudges:#?}"
    );
    let offered = ws
        .run(&format!(
            "/as fay\n/click {}",
            button(&nudges, "fay", "I can take something")
        ))
        .await;
    // eve closes her ask, so she may ask again next week.
    ws.run(&format!(
        "/as eve\n/click {}",
        button(&offered, "eve", "Sorted, thanks")
    ))
    .await;
    let week_one = ws.run("/clock next fri 16:00").await;
    assert!(summary_of(&week_one).contains("Responses: 6/6"));
    let db = ws.app().db.clone();
    let published_before = rows(&db, "summaries").await;
    assert_eq!(published_before.len(), 1);

    // Week 2: eve is the fifth to answer, asks anonymously, then erases herself before the
    // ask goes out.
    let prompts = ws.run("/clock next mon 10:00").await;
    let mut script = String::new();
    for name in ["alice", "bob", "chen", "dana"] {
        script.push_str(&format!(
            "/as {name}\n/click {}\n",
            button(&prompts, name, "2 Comfortable")
        ));
    }
    ws.run(&script).await;
    let out = ws.run("/as eve\n/pulse checkin 4 eve-week-two").await;
    ws.run(&format!(
        "/click {}",
        button(&out, "eve", "Ask anonymously")
    ))
    .await;
    let (eve_user, eve_member) = (user_id(&db, "eve").await, member_id(&db, "eve").await);
    let erased = ws.run("/as eve\n/pulse forget-me").await;
    assert!(
        messages(&erased).iter().any(|m| m.starts_with(
            "bot → @eve (only you): Done. Everything peerpulse kept about you is erased"
        )),
        "{erased:#?}"
    );
    let later = ws.run("/clock +31m").await;
    assert!(
        !messages(&later)
            .iter()
            .any(|m| m.contains("is stretched this week")),
        "the erased member's ask still went out: {later:#?}"
    );

    for (sql, what) in [
        ("SELECT COUNT(*) FROM users WHERE id = $1", "users"),
        ("SELECT COUNT(*) FROM members WHERE user_id = $1", "members"),
        (
            "SELECT COUNT(*) FROM outbox WHERE user_id = $1",
            "outbox rows to her",
        ),
        (
            "SELECT COUNT(*) FROM teams WHERE admin_user_id = $1",
            "teams she runs",
        ),
    ] {
        assert_eq!(count(&db, sql, eve_user).await, 0, "{what} left for eve");
    }
    for (sql, what) in [
        ("SELECT COUNT(*) FROM members WHERE id = $1", "members"),
        (
            "SELECT COUNT(*) FROM prompts WHERE member_id = $1",
            "prompts",
        ),
        (
            "SELECT COUNT(*) FROM participations WHERE member_id = $1",
            "participations",
        ),
        ("SELECT COUNT(*) FROM nudges WHERE member_id = $1", "nudges"),
        ("SELECT COUNT(*) FROM offers WHERE member_id = $1", "offers"),
        (
            "SELECT COUNT(*) FROM asks WHERE asker_member_id = $1",
            "asks",
        ),
    ] {
        assert_eq!(count(&db, sql, eve_member).await, 0, "{what} left for eve");
    }
    let named: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE external_id = 'eve' OR display_name = 'eve'",
    )
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(named, 0);
    let addressed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE destination LIKE '%\"eve\"%'")
            .fetch_one(&db)
            .await
            .expect("count");
    assert_eq!(addressed, 0, "an outbox row still names eve");
    // Her asks stay as counts, unlinked.
    let asks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM asks WHERE asker_member_id IS NULL")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(asks, 2, "eve's two asks stay, unlinked");

    // Her answer still counts; the published week is untouched.
    let week_two = ws.run("/clock next fri 16:00").await;
    let summary = summary_of(&week_two);
    assert!(summary.contains("Responses: 5/6"), "{summary}");
    assert!(summary.contains("eve-week-two"), "{summary}");
    assert!(summary.contains("Stretched 1"), "{summary}");
    let published_after = rows(&db, "summaries").await;
    assert_eq!(published_after.len(), 2);
    assert!(
        published_after.contains(&published_before[0]),
        "the week-one summary changed: {published_before:?} vs {published_after:?}"
    );
}

#[tokio::test]
async fn after_forget_me_no_outbox_row_is_keyed_to_the_erased_member() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen", "eve"]).await;
    ws.run("/as eve\n/pulse capacity on").await;
    ws.run("/clock next mon 10:00").await;
    let out = ws.run("/as bob\n/pulse ask").await;
    let nudges = ws
        .run(&format!(
            "/click {}",
            button(&out, "bob", "Ask with my name")
        ))
        .await;
    let offer = button(&nudges, "eve", "I can take something");
    ws.run(&format!("/as eve\n/click {offer}")).await;
    let db = ws.app().db.clone();
    let eve_member = member_id(&db, "eve").await;
    let eve_prompt: i64 = sqlx::query_scalar("SELECT id FROM prompts WHERE member_id = $1")
        .bind(eve_member)
        .fetch_one(&db)
        .await
        .expect("prompt");
    ws.run("/as eve\n/pulse forget-me").await;
    let keys: Vec<String> = sqlx::query_scalar("SELECT dedupe_key FROM outbox")
        .fetch_all(&db)
        .await
        .expect("keys");
    let erased = [
        format!("prompt:{eve_prompt}"),
        format!("nudge:1:{eve_member}"),
        format!("offer:1:{eve_member}"),
    ];
    let left: Vec<&String> = keys.iter().filter(|k| erased.contains(k)).collect();
    assert!(
        left.is_empty(),
        "outbox rows keyed to the erased member (prompt {eve_prompt}, member {eve_member}) \
         remain: {left:?}"
    );
}

#[tokio::test]
async fn a_member_who_erases_their_data_does_not_cost_a_teammate_the_next_prompt() {
    let mut ws = support::console(START).await;
    // zed joins last, so zed's prompt has the highest id.
    team(&mut ws, &["alice", "bob", "zed"]).await;
    let week_one = ws.run("/clock next mon 10:00").await;
    for name in ["alice", "bob", "zed"] {
        assert_eq!(support::to(&week_one, name).len(), 1, "{week_one:#?}");
    }
    ws.run("/as zed\n/pulse forget-me").await;
    let week_two = ws.run("/clock 2026-12-07T10:00").await;
    for name in ["alice", "bob"] {
        let prompts: Vec<String> = support::to(&week_two, name)
            .into_iter()
            .filter(|l| l.contains("(dm): Weekly check-in"))
            .collect();
        assert_eq!(
            prompts.len(),
            1,
            "@{name} got no week-two prompt: {week_two:#?}"
        );
    }
}

#[tokio::test]
async fn volunteers_never_learn_who_made_an_anonymous_ask() {
    let mut ws = support::console(START).await;
    let names = ["alice", "bob", "chen", "dana", "eli", "fay"];
    team(&mut ws, &names).await;
    ws.run("/clock next mon 10:00").await;
    let out = ws.run("/as bob\n/pulse checkin 5").await;
    let queued = ws
        .run(&format!(
            "/click {}",
            button(&out, "bob", "Ask anonymously")
        ))
        .await;
    assert!(
        messages(&queued)
            .iter()
            .all(|m| m.starts_with("bot → @bob (only you)")),
        "nothing goes to peers at once: {queued:#?}"
    );
    let mut printed = ws.run("/clock +31m").await;
    let nudged: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| support::button_for(&printed, n, "I can take something").is_some())
        .collect();
    assert_eq!(
        nudged,
        ["alice", "chen", "dana", "eli", "fay"],
        "{printed:#?}"
    );
    // No offer for a day: one wider nudge (to nobody new here) and still no name.
    printed.extend(ws.run("/clock +25h").await);
    let offer = button(&printed, "chen", "I can take something");
    let offered = ws.run(&format!("/as chen\n/click {offer}")).await;
    printed.extend(offered.clone());
    let all = messages(&printed);
    for message in &all {
        if message.starts_with("bot → @bob ") {
            continue;
        }
        assert!(
            !message.contains("bob"),
            "the asker's name reached someone: {message}"
        );
    }
    for name in &nudged {
        assert!(
            messages_to(&all, name)
                .iter()
                .any(|m| m.contains("A teammate in #team is stretched")),
            "@{name}: {all:#?}"
        );
    }
    let thanks = messages_to(&all, "chen");
    assert!(
        thanks
            .iter()
            .any(|m| m.contains("(only you): Thank you! I've let them know privately")),
        "{thanks:#?}"
    );
    assert!(
        messages_to(&all, "bob")
            .iter()
            .any(|m| m.contains("@chen from #team can take something off your plate")),
        "the asker learns who offered: {all:#?}"
    );
}

#[tokio::test]
async fn volunteers_learn_who_asked_when_the_ask_is_named() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen", "dana", "eli", "fay"]).await;
    let out = ws.run("/as bob\n/pulse ask").await;
    let nudges = ws
        .run(&format!(
            "/click {}",
            button(&out, "bob", "Ask with my name")
        ))
        .await;
    let all = messages(&nudges);
    for name in ["alice", "chen", "dana", "eli", "fay"] {
        assert!(
            messages_to(&all, name)
                .iter()
                .any(|m| m.contains("@bob in #team is stretched")),
            "@{name}: {all:#?}"
        );
    }
    let offer = button(&nudges, "dana", "I can take something");
    let offered = messages(&ws.run(&format!("/as dana\n/click {offer}")).await);
    assert!(
        messages_to(&offered, "dana")
            .iter()
            .any(|m| m.contains("I've told @bob")),
        "{offered:#?}"
    );
    assert!(
        messages_to(&offered, "bob")
            .iter()
            .any(|m| m.contains("@dana from #team can take something off your plate")),
        "{offered:#?}"
    );
}

#[tokio::test]
async fn in_a_team_smaller_than_the_minimum_group_the_asker_is_warned_before_anything_is_sent() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen"]).await;
    let out = ws.run("/as bob\n/pulse ask").await;
    let warned = ws
        .run(&format!(
            "/click {}",
            button(&out, "bob", "Ask anonymously")
        ))
        .await;
    let all = messages(&warned);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(all[0].starts_with("bot → @bob (only you):"), "{all:#?}");
    assert!(all[0].contains("teammates may guess"), "{all:#?}");
    let confirm = button(&warned, "bob", "Ask anyway, without my name");
    let db = ws.app().db.clone();
    let waited = ws.run("/clock +2h").await;
    assert!(
        messages(&waited).is_empty(),
        "something went out before the asker confirmed: {waited:#?}"
    );
    let asks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM asks")
        .fetch_one(&db)
        .await
        .expect("count");
    let nudges: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nudges")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!((asks, nudges), (0, 0));

    let confirmed = ws.run(&format!("/as bob\n/click {confirm}")).await;
    assert!(
        messages(&confirmed)
            .iter()
            .all(|m| m.starts_with("bot → @bob (only you)")),
        "{confirmed:#?}"
    );
    let released = messages(&ws.run("/clock +31m").await);
    for name in ["alice", "chen"] {
        assert!(
            messages_to(&released, name)
                .iter()
                .any(|m| m.contains("A teammate in #team is stretched") && !m.contains("bob")),
            "@{name}: {released:#?}"
        );
    }
}

#[tokio::test]
async fn the_console_keeps_no_buttons_of_private_replies() {
    let mut ws = support::console(START).await;
    team(&mut ws, &["alice", "bob", "chen", "dana", "eli"]).await;
    ws.run("/as alice\n/pulse start").await;
    let shown = ws.run("/as bob\n/pulse checkin").await;
    let heavy = button(&shown, "bob", "4 Stretched");
    let strain = ws.run(&format!("/click {heavy}")).await;
    let ask = button(&strain, "bob", "Ask with my name");
    let asked = ws.run(&format!("/click {ask}")).await;
    assert!(
        asked.iter().any(|l| l.contains("could use a hand")),
        "{asked:#?}"
    );
    let db = ws.app().db.clone();
    let kept: Vec<String> = sqlx::query_scalar("SELECT action_id FROM console_buttons")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(kept.iter().all(|a| !a.starts_with("ask:")), "{kept:#?}");
    let private_ids: Vec<i64> = support::buttons(&shown, "")
        .iter()
        .chain(support::buttons(&strain, "").iter())
        .map(|b| b.trim_start_matches('b').parse().unwrap())
        .collect();
    for id in private_ids {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_buttons WHERE id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(n, 0, "button b{id} of a private reply was kept");
    }
}

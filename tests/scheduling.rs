//! Scheduling end to end: one prompt per member per round whoever ticks, check-ins at the
//! right instant across DST changes in any zone, catch-up after downtime, reminders and the
//! round's close with its summary.

mod support;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use peerpulse::app::App;
use peerpulse::domain::message::{Destination, Message};
use peerpulse::platform::{Chat, ChatError};
use peerpulse::{outbox, scheduler};
use proptest::prelude::*;
use support::{Console, RecordingChat, at};

/// How many messages of a kind each user got, by name.
type Counts = std::collections::BTreeMap<String, usize>;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A console workspace with `#team` set up by alice with `setup` options, and `others`
/// joined. Nothing is due at `start` (every test starts well after the previous slot's
/// grace window).
async fn team(start: &str, setup: &str, others: &[&str]) -> Console {
    let mut ws = support::console(start).await;
    let mut script = format!("/as alice\n/in #team\n/pulse setup {setup}\n");
    for name in others {
        script.push_str(&format!("/as {name}\n/pulse join\n"));
    }
    let out = ws.run(&script).await;
    assert!(
        out.iter()
            .any(|l| l.starts_with("bot → #team: peerpulse is set up in #team")),
        "{out:#?}"
    );
    assert_eq!(checkins(&out).values().sum::<usize>(), 0, "{out:#?}");
    ws
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// Console lines: how many check-in prompts (not reminders) each user got, by name.
fn checkins(lines: &[String]) -> Counts {
    dms_starting(lines, "Weekly check-in for #team.")
}

/// Console lines: how many reminders each user got, by name.
fn reminders(lines: &[String]) -> Counts {
    dms_starting(lines, "A gentle reminder")
}

fn dms_starting(lines: &[String], text: &str) -> Counts {
    let mut counts = Counts::new();
    for line in lines {
        let Some(rest) = line.strip_prefix("bot → @") else {
            continue;
        };
        if let Some((name, body)) = rest.split_once(" (dm): ")
            && body.starts_with(text)
        {
            *counts.entry(name.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

fn counts(pairs: &[(&str, usize)]) -> Counts {
    pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

/// How many reminders each user received through a recording chat.
fn reminders_sent(chat: &RecordingChat) -> Counts {
    let mut counts = Counts::new();
    for (to, message) in chat.sent() {
        if let Destination::Dm { user } = to
            && message.text.starts_with("A gentle reminder")
        {
            *counts.entry(user).or_insert(0) += 1;
        }
    }
    counts
}

/// Posts to `#team` whose text starts with `prefix`, through a recording chat.
fn channel_posts(chat: &RecordingChat, prefix: &str) -> usize {
    chat.sent()
        .iter()
        .filter(|(to, m)| {
            matches!(to, Destination::Channel { channel } if channel == "#team")
                && m.text.starts_with(prefix)
        })
        .count()
}

/// Every stored prompt as (member name, due_at, sent_at), ordered by name.
async fn prompts(app: &App) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT u.external_id, p.due_at, p.sent_at FROM prompts p
         JOIN members m ON m.id = p.member_id JOIN users u ON u.id = m.user_id
         ORDER BY u.external_id, p.id",
    )
    .fetch_all(&app.db)
    .await
    .expect("prompts")
}

async fn count(app: &App, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&app.db)
        .await
        .expect("count")
}

/// The same (due, sent) instant for every one of `names`.
fn all_at(names: &[&str], due: DateTime<Utc>, sent: DateTime<Utc>) -> Vec<(String, i64, i64)> {
    names
        .iter()
        .map(|n| (n.to_string(), due.timestamp(), sent.timestamp()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// One prompt per member per round, whoever ticks
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn each_member_gets_exactly_one_prompt_when_the_scheduler_ticks_twice_at_the_same_instant() {
    // Sun 29 Nov 2026; the default schedule is Mon 10:00 / Fri 16:00 UTC.
    let ws = team("2026-11-29T12:00", "", &["bob", "carol"]).await;
    let (app, _clock) = ws.second_process(at("2026-11-30T10:00")).await;

    let first = scheduler::tick(&app).await.expect("first tick");
    let second = scheduler::tick(&app).await.expect("second tick");
    assert_eq!((first.prompted, second.prompted), (3, 0));

    let chat = RecordingChat::default();
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    outbox::deliver_due(&app, &chat)
        .await
        .expect("second delivery");
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
    let slot = at("2026-11-30T10:00");
    assert_eq!(
        prompts(&app).await,
        all_at(&["alice", "bob", "carol"], slot, slot)
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM rounds").await, 1);
    assert_eq!(count(&app, "SELECT prompted FROM rounds").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_member_gets_exactly_one_prompt_when_two_schedulers_share_the_database() {
    let ws = team("2026-11-29T12:00", "", &["bob", "carol", "dave", "erin"]).await;
    let slot = at("2026-11-30T10:00");
    let (one, _c1) = ws.second_process(slot).await;
    let (two, _c2) = ws.second_process(slot).await;

    let (a, b) = tokio::join!(scheduler::tick(&one), scheduler::tick(&two));
    let (a, b) = (a.expect("tick one"), b.expect("tick two"));
    assert_eq!(a.prompted + b.prompted, 5, "{a:?} {b:?}");
    let (a, b) = tokio::join!(scheduler::tick(&one), scheduler::tick(&two));
    assert_eq!(
        a.expect("tick one").prompted + b.expect("tick two").prompted,
        0
    );

    let chat = RecordingChat::default();
    let (a, b) = tokio::join!(
        outbox::deliver_due(&one, &chat),
        outbox::deliver_due(&two, &chat)
    );
    let (a, b) = (a.expect("delivery one"), b.expect("delivery two"));
    assert_eq!(a.sent + b.sent, 5, "{a:?} {b:?}");
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[
            ("alice", 1),
            ("bob", 1),
            ("carol", 1),
            ("dave", 1),
            ("erin", 1)
        ])
    );
    assert_eq!(chat.sent().len(), 5);
    assert_eq!(count(&one, "SELECT COUNT(*) FROM rounds").await, 1);
    assert_eq!(count(&one, "SELECT prompted FROM rounds").await, 5);
    assert_eq!(count(&one, "SELECT COUNT(*) FROM prompts").await, 5);
}

#[tokio::test]
async fn each_member_gets_exactly_one_prompt_when_the_process_dies_between_claiming_and_sending() {
    let ws = team("2026-11-29T12:00", "", &["bob", "carol"]).await;
    let slot = at("2026-11-30T10:00");
    {
        let (dying, _clock) = ws.second_process(slot).await;
        let report = scheduler::tick(&dying).await.expect("tick");
        assert_eq!(report.prompted, 3);
        // The process dies here: claimed and queued, never delivered.
    }
    assert_eq!(
        count(
            ws.app(),
            "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'prompt:%' AND sent_at IS NULL"
        )
        .await,
        3
    );

    let (fresh, clock) = ws.second_process(slot + TimeDelta::minutes(1)).await;
    assert_eq!(scheduler::tick(&fresh).await.expect("tick").prompted, 0);
    let chat = RecordingChat::default();
    let report = outbox::deliver_due(&fresh, &chat).await.expect("delivery");
    assert_eq!(report.sent, 3);
    clock.advance(TimeDelta::hours(1));
    assert_eq!(scheduler::tick(&fresh).await.expect("tick").prompted, 0);
    outbox::deliver_due(&fresh, &chat).await.expect("delivery");
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
    assert_eq!(
        prompts(&fresh).await,
        all_at(&["alice", "bob", "carol"], slot, slot)
    );
}

#[tokio::test]
async fn a_failed_delivery_is_retried_after_the_backoff_and_still_gives_one_prompt_each() {
    let ws = team("2026-11-29T12:00", "", &["bob", "carol"]).await;
    let (app, clock) = ws.second_process(at("2026-11-30T10:00")).await;
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 3);

    let chat = RecordingChat::failing(2);
    let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!((report.sent, report.retried, report.failed), (1, 2, 0));
    assert_eq!(chat.prompts_per_user().values().sum::<usize>(), 1);
    // Nothing is due again before the backoff has passed.
    let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!(report.sent, 0);

    // The first retry waits at most 2 s * 2 (backoff_base, doubled once).
    clock.advance(TimeDelta::minutes(11));
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 0);
    let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!((report.sent, report.retried, report.failed), (2, 0, 0));
    clock.advance(TimeDelta::hours(1));
    let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!(report.sent, 0);

    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        )
        .await,
        0,
        "nothing is left to deliver"
    );
}

#[tokio::test]
async fn a_message_held_by_rate_limits_waits_without_using_up_its_attempts() {
    let ws = team("2026-11-29T12:00", "", &["bob", "carol"]).await;
    let (app, clock) = ws.second_process(at("2026-11-30T10:00")).await;
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 3);

    // Held far more often than `delivery.max_attempts` would allow failures.
    let holds = 3 * (app.config.delivery.max_attempts as u32 + 2);
    let chat = RecordingChat::holding(holds);
    let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!((report.sent, report.held, report.failed), (0, 3, 0));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE attempts > 0 AND sent_at IS NULL"
        )
        .await,
        0,
        "a held message was not attempted"
    );
    // Nothing comes back before the wait the limits asked for.
    clock.advance(TimeDelta::seconds(60));
    let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!((report.sent, report.held), (0, 0));

    let mut rounds = 0;
    while chat.prompts_per_user().len() < 3 {
        rounds += 1;
        assert!(rounds < 100, "the prompts never went out");
        clock.advance(TimeDelta::seconds(91));
        let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
        assert_eq!(report.failed, 0);
    }
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn behind_a_held_message_the_rest_of_its_conversation_waits_and_keeps_its_order() {
    let ws = team("2026-11-29T12:00", "", &["bob"]).await;
    let (app, clock) = ws.second_process(at("2026-11-29T13:00")).await;
    let workspace: i64 = count(&app, "SELECT MIN(id) FROM workspaces").await;
    let to = serde_json::to_string(&Destination::Channel {
        channel: "#team".into(),
    })
    .expect("destination");
    let now = app.now().timestamp();
    let mut conn = app.db.acquire().await.expect("connection");
    for n in 1..=3 {
        let body = serde_json::to_string(&Message::text(format!("post {n}"))).expect("body");
        let queued = peerpulse::store::outbox::enqueue(
            &mut conn,
            &peerpulse::store::outbox::NewMessage {
                dedupe_key: &format!("order-{n}"),
                workspace_id: workspace,
                user_id: None,
                destination: &to,
                body: &body,
                now,
                not_before: now,
            },
        )
        .await
        .expect("enqueue");
        assert!(queued);
    }
    drop(conn);

    let chat = RecordingChat::holding(1);
    let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!(
        (report.sent, report.held),
        (0, 3),
        "the first is held, the rest wait"
    );
    clock.advance(TimeDelta::seconds(91));
    let report = outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!(report.sent, 3);
    let texts: Vec<String> = chat.sent().into_iter().map(|(_, m)| m.text).collect();
    assert_eq!(texts, ["post 1", "post 2", "post 3"]);
}

/// A platform that never answers: the process is killed while it waits.
struct StuckChat;

impl Chat for StuckChat {
    async fn send(&self, _: i64, _: &Destination, _: &Message) -> Result<(), ChatError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn messages_leased_by_a_worker_that_died_mid_send_go_out_once_after_the_lease() {
    let ws = team("2026-11-29T12:00", "", &["bob", "carol"]).await;
    let slot = at("2026-11-30T10:00");
    {
        let (dying, _clock) = ws.second_process(slot).await;
        assert_eq!(scheduler::tick(&dying).await.expect("tick").prompted, 3);
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(300),
            outbox::deliver_due(&dying, &StuckChat),
        )
        .await;
        assert!(cut.is_err(), "the stuck send never returns");
    }

    let (fresh, clock) = ws.second_process(slot + TimeDelta::seconds(30)).await;
    let chat = RecordingChat::default();
    assert_eq!(scheduler::tick(&fresh).await.expect("tick").prompted, 0);
    let report = outbox::deliver_due(&fresh, &chat).await.expect("delivery");
    assert_eq!(report.sent, 0, "still leased to the dead worker");
    clock.set(slot + TimeDelta::seconds(61));
    let report = outbox::deliver_due(&fresh, &chat).await.expect("delivery");
    assert_eq!(report.sent, 3);
    clock.set(slot + TimeDelta::minutes(10));
    assert_eq!(scheduler::tick(&fresh).await.expect("tick").prompted, 0);
    let report = outbox::deliver_due(&fresh, &chat).await.expect("delivery");
    assert_eq!(report.sent, 0);
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
}

#[tokio::test]
async fn a_member_who_leaves_and_rejoins_is_not_prompted_twice_in_a_round() {
    let mut ws = team("2026-11-29T12:00", "", &["bob"]).await;
    let mut out = ws.run("/clock 2026-11-30T10:00").await;
    out.extend(
        ws.run("/as bob\n/in #team\n/pulse leave\n/pulse join")
            .await,
    );
    out.extend(
        ws.run("/clock 2026-11-30T11:00\n/clock 2026-11-30T21:00")
            .await,
    );
    assert_eq!(
        checkins(&out),
        counts(&[("alice", 1), ("bob", 1)]),
        "{out:#?}"
    );
    let slot = at("2026-11-30T10:00");
    assert_eq!(
        prompts(ws.app()).await,
        all_at(&["alice", "bob"], slot, slot)
    );
}

// ---------------------------------------------------------------------------------------
// Daylight saving time
// ---------------------------------------------------------------------------------------

/// A Sunday check-in at `time` in `tz` on `date` fires exactly at `expected` (UTC), once
/// for each member: nothing a minute before, one prompt each at `expected`, nothing at the
/// `probes` after it nor for the rest of the day.
async fn fires_once_at(tz: &str, date: &str, time: &str, expected: &str, probes: &[&str]) {
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
    let start = day.and_hms_opt(12, 0, 0).expect("noon").and_utc() - TimeDelta::days(4);
    let expected = at(expected);
    let mut ws = team(
        &stamp(start),
        &format!("tz={tz} day=sun time={time} summary_day=sat summary_time=16:00"),
        &["bob"],
    )
    .await;

    let before = ws
        .run(&format!(
            "/clock {}",
            stamp(expected - TimeDelta::minutes(1))
        ))
        .await;
    assert!(checkins(&before).is_empty(), "{before:#?}");

    let out = ws.run(&format!("/clock {}", stamp(expected))).await;
    assert_eq!(
        checkins(&out),
        counts(&[("alice", 1), ("bob", 1)]),
        "{out:#?}"
    );

    for probe in probes {
        let out = ws.run(&format!("/clock {probe}")).await;
        assert!(checkins(&out).is_empty(), "at {probe}: {out:#?}");
    }
    let after = day.and_hms_opt(12, 0, 0).expect("noon").and_utc() + TimeDelta::days(1);
    let out = ws.run(&format!("/clock {}", stamp(after))).await;
    assert!(checkins(&out).is_empty(), "{out:#?}");

    assert_eq!(
        prompts(ws.app()).await,
        all_at(&["alice", "bob"], expected, expected)
    );
    assert_eq!(count(ws.app(), "SELECT COUNT(*) FROM rounds").await, 1);
}

#[tokio::test]
async fn ten_am_in_new_york_fires_once_at_14_00_utc_on_the_spring_forward_sunday() {
    fires_once_at(
        "America/New_York",
        "2026-03-08",
        "10:00",
        "2026-03-08T14:00",
        &[],
    )
    .await;
}

#[tokio::test]
async fn ten_am_in_new_york_fires_once_at_15_00_utc_on_the_fall_back_sunday() {
    fires_once_at(
        "America/New_York",
        "2026-11-01",
        "10:00",
        "2026-11-01T15:00",
        &[],
    )
    .await;
}

#[tokio::test]
async fn ten_am_in_london_fires_once_at_09_00_utc_on_the_spring_forward_sunday() {
    fires_once_at(
        "Europe/London",
        "2026-03-29",
        "10:00",
        "2026-03-29T09:00",
        &[],
    )
    .await;
}

#[tokio::test]
async fn ten_am_in_london_fires_once_at_10_00_utc_on_the_fall_back_sunday() {
    fires_once_at(
        "Europe/London",
        "2026-10-25",
        "10:00",
        "2026-10-25T10:00",
        &[],
    )
    .await;
}

#[tokio::test]
async fn ten_am_in_melbourne_fires_once_at_midnight_utc_on_the_day_summer_time_ends() {
    fires_once_at(
        "Australia/Melbourne",
        "2026-04-05",
        "10:00",
        "2026-04-05T00:00",
        &[],
    )
    .await;
}

#[tokio::test]
async fn a_check_in_in_the_spring_forward_gap_fires_once_at_the_end_of_the_gap() {
    // 02:30 does not exist in New York on 8 Mar 2026: 02:00 EST jumps to 03:00 EDT (07:00Z).
    fires_once_at(
        "America/New_York",
        "2026-03-08",
        "02:30",
        "2026-03-08T07:00",
        &["2026-03-08T07:30", "2026-03-08T08:00"],
    )
    .await;
}

#[tokio::test]
async fn a_check_in_in_the_repeated_hour_fires_once_at_the_first_of_the_two() {
    // 01:30 happens twice in New York on 1 Nov 2026: 05:30Z (EDT) and 06:30Z (EST).
    fires_once_at(
        "America/New_York",
        "2026-11-01",
        "01:30",
        "2026-11-01T05:30",
        &[
            "2026-11-01T06:00",
            "2026-11-01T06:30",
            "2026-11-01T06:31",
            "2026-11-01T07:00",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_second_process_ticking_in_the_repeated_hour_sends_no_second_prompt() {
    let ws = team(
        "2026-10-28T12:00",
        "tz=America/New_York day=sun time=01:30 summary_day=sat summary_time=16:00",
        &["bob"],
    )
    .await;
    let (app, clock) = ws.second_process(at("2026-11-01T05:30")).await;
    let chat = RecordingChat::default();
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 2);
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    for later in ["2026-11-01T06:30", "2026-11-01T06:45", "2026-11-01T07:30"] {
        clock.set(at(later));
        assert_eq!(
            scheduler::tick(&app).await.expect("tick").prompted,
            0,
            "{later}"
        );
        outbox::deliver_due(&app, &chat).await.expect("delivery");
    }
    assert_eq!(chat.prompts_per_user(), counts(&[("alice", 1), ("bob", 1)]));
    let first = at("2026-11-01T05:30");
    assert_eq!(prompts(&app).await, all_at(&["alice", "bob"], first, first));
}

// ---------------------------------------------------------------------------------------
// Any zone, any week
// ---------------------------------------------------------------------------------------

const ZONES: [&str; 16] = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Santiago",
    "America/Havana",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Casablanca",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Melbourne",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
];

/// Days on which some of [`ZONES`] change their clocks in 2026-2027, to hit gaps and folds
/// more often than uniform dates would.
const CHANGE_DAYS: [&str; 16] = [
    "2026-03-08",
    "2026-03-29",
    "2026-04-05",
    "2026-09-06",
    "2026-09-27",
    "2026-10-04",
    "2026-10-25",
    "2026-11-01",
    "2027-03-14",
    "2027-03-28",
    "2027-04-04",
    "2027-09-05",
    "2027-09-26",
    "2027-10-03",
    "2027-10-31",
    "2027-11-07",
];

fn ymd(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    let first = ymd("2026-01-01");
    prop_oneof![
        (0i64..730).prop_map(move |d| first + TimeDelta::days(d)),
        prop::sample::select(&CHANGE_DAYS[..]).prop_map(ymd),
    ]
}

fn any_time() -> impl Strategy<Value = NaiveTime> {
    let minutes = prop_oneof![
        0u32..1440,
        prop::sample::select(vec![0u32, 30, 60, 90, 120, 150, 180]),
    ];
    minutes.prop_map(|m| NaiveTime::from_hms_opt(m / 60, m % 60, 0).expect("time"))
}

/// The instant of a local date and time, independently of peerpulse: the earliest one in a
/// fold, the first existing minute after a gap.
fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let wanted = date.and_time(time);
    (0..48 * 60)
        .find_map(|m| {
            tz.from_local_datetime(&(wanted + TimeDelta::minutes(m)))
                .earliest()
        })
        .expect("a gap shorter than two days")
        .with_timezone(&Utc)
}

/// `due_at` shows `date time` in `tz`, or, when that local time was skipped, is the first
/// instant after the gap.
fn shows_local_time(tz: Tz, due: DateTime<Utc>, date: NaiveDate, time: NaiveTime) -> bool {
    let wanted = date.and_time(time);
    let shown = due.with_timezone(&tz).naive_local();
    match tz.from_local_datetime(&wanted).earliest() {
        Some(instant) => shown == wanted && due == instant.with_timezone(&Utc),
        None => {
            let before = (due - TimeDelta::seconds(1))
                .with_timezone(&tz)
                .naive_local();
            shown > wanted && before < wanted
        }
    }
}

fn weekday_name(date: NaiveDate) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [date.weekday().num_days_from_monday() as usize]
}

async fn one_week_in(
    team_zone: &'static str,
    carol_zone: &'static str,
    date: NaiveDate,
    time: NaiveTime,
    lead_minutes: i64,
) -> Result<(), TestCaseError> {
    let team_tz: Tz = team_zone.parse().expect("zone");
    let carol_tz: Tz = carol_zone.parse().expect("zone");
    let slot = local_instant(team_tz, date, time);
    let start = slot - TimeDelta::minutes(lead_minutes);
    let start = DateTime::from_timestamp(start.timestamp() / 60 * 60, 0).expect("instant");
    let summary_day = weekday_name(date + TimeDelta::days(3));
    let hhmm = time.format("%H:%M");
    let mut ws = team(
        &stamp(start),
        &format!(
            "tz={team_zone} day={} time={hhmm} summary_day={summary_day} summary_time={hhmm}",
            weekday_name(date)
        ),
        &["bob"],
    )
    .await;
    ws.run(&format!("/as carol\n/pulse tz {carol_zone}\n/pulse join"))
        .await;

    let out = ws
        .run(&format!("/clock {}", stamp(start + TimeDelta::days(7))))
        .await;
    prop_assert_eq!(
        checkins(&out),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)]),
        "{:#?}",
        out
    );
    let rows = prompts(ws.app()).await;
    prop_assert_eq!(rows.len(), 3, "{:?}", rows);
    for (name, due, sent) in rows {
        let tz = if name == "carol" { carol_tz } else { team_tz };
        let due = DateTime::from_timestamp(due, 0).expect("instant");
        prop_assert_eq!(due.timestamp(), sent, "{} was prompted late", name);
        prop_assert!(
            shows_local_time(tz, due, date, time),
            "{} ({}) was prompted at {} = {} local, wanted {} {}",
            name,
            tz,
            due,
            due.with_timezone(&tz),
            date,
            time
        );
    }
    prop_assert_eq!(count(ws.app(), "SELECT COUNT(*) FROM rounds").await, 1);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // Each case builds a database; `PROPTEST_CASES=500` explores further.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(16),
        max_shrink_iters: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_member_gets_one_prompt_at_their_local_check_in_time_in_any_zone_and_week(
        team_zone in prop::sample::select(&ZONES[..]),
        carol_zone in prop::sample::select(&ZONES[..]),
        date in any_date(),
        time in any_time(),
        lead_minutes in (2 * 1440i64)..=(5 * 1440),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(one_week_in(team_zone, carol_zone, date, time, lead_minutes))?;
    }
}

// ---------------------------------------------------------------------------------------
// Downtime
// ---------------------------------------------------------------------------------------

/// Mon 7 Dec 2026, 10:00 in Berlin (CET, +1) is 09:00Z.
const BERLIN: &str = "tz=Europe/Berlin day=mon time=10:00 summary_day=fri summary_time=16:00";

#[tokio::test]
async fn a_bot_down_for_three_hours_over_the_check_in_sends_one_catch_up_prompt_each() {
    let ws = team("2026-12-02T12:00", BERLIN, &["bob", "carol"]).await;
    // Up at 09:00 local, then nothing until 13:00 local.
    let (app, clock) = ws.second_process(at("2026-12-07T08:00")).await;
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 0);
    clock.set(at("2026-12-07T12:00"));
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 3);

    let chat = RecordingChat::default();
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    for later in ["2026-12-07T12:00", "2026-12-07T12:30", "2026-12-07T20:00"] {
        clock.set(at(later));
        assert_eq!(
            scheduler::tick(&app).await.expect("tick").prompted,
            0,
            "{later}"
        );
        outbox::deliver_due(&app, &chat).await.expect("delivery");
    }
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
    assert_eq!(
        prompts(&app).await,
        all_at(
            &["alice", "bob", "carol"],
            at("2026-12-07T09:00"),
            at("2026-12-07T12:00")
        )
    );
}

#[tokio::test]
async fn a_bot_down_for_a_week_opens_one_round_and_sends_one_prompt_each() {
    let ws = team("2026-12-02T12:00", BERLIN, &["bob", "carol"]).await;
    // Up at 09:59 local on Mon 7 Dec, back at 10:30 local on Mon 14 Dec.
    let (app, clock) = ws.second_process(at("2026-12-07T08:59")).await;
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 0);
    clock.set(at("2026-12-14T09:30"));
    let report = scheduler::tick(&app).await.expect("tick");
    assert_eq!((report.prompted, report.closed), (3, 0));

    let chat = RecordingChat::default();
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    for later in ["2026-12-14T09:31", "2026-12-14T12:00", "2026-12-14T21:00"] {
        clock.set(at(later));
        assert_eq!(
            scheduler::tick(&app).await.expect("tick").prompted,
            0,
            "{later}"
        );
        outbox::deliver_due(&app, &chat).await.expect("delivery");
    }
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM rounds").await, 1);
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT week FROM rounds")
            .fetch_one(&app.db)
            .await
            .expect("week"),
        "2026-12-14"
    );
    assert_eq!(
        prompts(&app).await,
        all_at(
            &["alice", "bob", "carol"],
            at("2026-12-14T09:00"),
            at("2026-12-14T09:30")
        )
    );
}

#[tokio::test]
async fn a_bot_back_after_the_grace_window_sends_nothing_for_the_missed_slot() {
    let ws = team("2026-12-02T12:00", BERLIN, &["bob", "carol"]).await;
    let (app, clock) = ws.second_process(at("2026-12-07T08:00")).await;
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 0);
    // Back 20 h after the 09:00Z slot; the grace window is 12 h.
    clock.set(at("2026-12-08T05:00"));
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 0);
    let chat = RecordingChat::default();
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    clock.set(at("2026-12-09T12:00"));
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 0);
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert!(chat.prompts_per_user().is_empty(), "{:?}", chat.sent());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM rounds").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM prompts").await, 0);

    // The next week's check-in goes out as usual.
    clock.set(at("2026-12-14T09:00"));
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 3);
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
}

#[tokio::test]
async fn a_team_set_up_after_the_day_s_check_in_gets_its_first_prompt_at_the_next_slot() {
    // Monday 12:00 UTC, two hours after the default Monday 10:00 check-in.
    let mut ws = support::console("2026-12-07T12:00").await;
    let out = ws
        .run("/as alice\n/in #team\n/pulse setup tz=UTC\n/as bob\n/pulse join")
        .await;
    assert_eq!(checkins(&out).values().sum::<usize>(), 0, "{out:#?}");
    let out = ws.run("/clock next sun 12:00").await;
    assert_eq!(checkins(&out).values().sum::<usize>(), 0, "{out:#?}");
    let out = ws.run("/clock next mon 10:00").await;
    assert_eq!(
        checkins(&out),
        counts(&[("alice", 1), ("bob", 1)]),
        "{out:#?}"
    );
}

#[tokio::test]
async fn the_summary_of_a_sunday_check_in_names_that_sunday_s_week() {
    // Sunday check-ins: 2026-03-01 is a Sunday, in the ISO week of Monday 23 February.
    let mut ws = support::console("2026-02-27T12:00").await;
    let mut script = String::from("/as alice\n/in #team\n/pulse setup day=sun tz=UTC\n");
    for name in ["bob", "carol", "dan", "eve"] {
        script.push_str(&format!("/as {name}\n/pulse join\n"));
    }
    ws.run(&script).await;
    let out = ws.run("/clock next sun 10:00").await;
    assert_eq!(checkins(&out).values().sum::<usize>(), 5, "{out:#?}");
    let out = ws.run("/as alice\n/pulse close").await;
    assert!(
        out.iter()
            .any(|l| l.contains("Weekly pulse for #team, week of 1 Mar 2026")),
        "{out:#?}"
    );
}

#[tokio::test]
async fn a_bot_back_after_the_round_would_have_closed_sends_no_catch_up_prompt() {
    // Check-in Mon 10:00, summary Mon 12:00 (UTC); down from 09:00 to 13:00.
    let ws = team(
        "2026-11-29T12:00",
        "day=mon time=10:00 summary_day=mon summary_time=12:00",
        &["bob"],
    )
    .await;
    let (app, clock) = ws.second_process(at("2026-11-30T09:00")).await;
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 0);
    clock.set(at("2026-11-30T13:00"));
    let report = scheduler::tick(&app).await.expect("tick");
    assert_eq!((report.prompted, report.closed), (0, 0));
    let chat = RecordingChat::default();
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert!(chat.sent().is_empty(), "{:?}", chat.sent());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM prompts").await, 0);
}

// ---------------------------------------------------------------------------------------
// Reminders
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn non_responders_get_exactly_one_reminder_and_those_who_answered_or_paused_get_none() {
    // Default schedule, UTC: check-in Mon 30 Nov 10:00, reminder 24 h later, close Fri 16:00.
    let mut ws = team("2026-11-29T12:00", "", &["bob", "carol", "dave"]).await;
    let out = ws.run("/clock 2026-11-30T10:00").await;
    assert_eq!(
        checkins(&out),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1), ("dave", 1)]),
        "{out:#?}"
    );
    let full = support::button_for(&out, "bob", "Full").expect("bob's Full button");
    let answered = ws.run(&format!("/as bob\n/click {full}")).await;
    assert!(
        answered
            .iter()
            .any(|l| l.starts_with("bot → @bob (only you): Thanks, your check-in")),
        "{answered:#?}"
    );
    let paused = ws.run("/as carol\n/in #team\n/pulse pause 2w").await;
    assert!(
        paused
            .iter()
            .any(|l| l.starts_with("bot → @carol (only you): Paused until")),
        "{paused:#?}"
    );

    let before = ws.run("/clock 2026-12-01T09:59").await;
    assert!(reminders(&before).is_empty(), "{before:#?}");
    let mut out = ws.run("/clock 2026-12-01T10:00").await;
    assert_eq!(
        reminders(&out),
        counts(&[("alice", 1), ("dave", 1)]),
        "{out:#?}"
    );
    out.extend(ws.run("/clock 2026-12-06T12:00").await);
    assert_eq!(
        reminders(&out),
        counts(&[("alice", 1), ("dave", 1)]),
        "{out:#?}"
    );
    assert_eq!(
        count(
            ws.app(),
            "SELECT COUNT(*) FROM prompts WHERE reminded_at IS NOT NULL"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn no_reminder_goes_out_after_the_round_closed() {
    // The round closes at 18:00 the same day, before the reminder (24 h) would be due.
    let mut ws = team(
        "2026-11-29T12:00",
        "day=mon time=10:00 summary_day=mon summary_time=18:00",
        &["bob"],
    )
    .await;
    let mut out = ws.run("/clock 2026-11-30T10:00").await;
    assert_eq!(checkins(&out), counts(&[("alice", 1), ("bob", 1)]));
    out.extend(ws.run("/clock 2026-12-04T12:00").await);
    assert!(reminders(&out).is_empty(), "{out:#?}");
    assert_eq!(
        out.iter()
            .filter(|l| l.starts_with("bot → #team: Weekly pulse for #team"))
            .count(),
        1,
        "{out:#?}"
    );
    assert_eq!(
        count(ws.app(), "SELECT closed_at FROM rounds").await,
        at("2026-11-30T18:00").timestamp()
    );
    assert_eq!(
        count(
            ws.app(),
            "SELECT COUNT(*) FROM prompts WHERE reminded_at IS NOT NULL"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_bot_down_past_the_close_posts_the_summary_but_sends_no_late_reminders() {
    let ws = team("2026-11-29T12:00", "", &["bob"]).await;
    let (app, clock) = ws.second_process(at("2026-11-30T10:00")).await;
    let chat = RecordingChat::default();
    assert_eq!(scheduler::tick(&app).await.expect("tick").prompted, 2);
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    // Down from just after the check-in until Saturday: the reminders (Tue 10:00) and the
    // close (Fri 16:00) are both overdue.
    clock.set(at("2026-12-05T09:00"));
    let report = scheduler::tick(&app).await.expect("tick");
    assert_eq!((report.closed, report.reminded, report.prompted), (1, 0, 0));
    outbox::deliver_due(&app, &chat).await.expect("delivery");
    assert!(reminders_sent(&chat).is_empty(), "{:?}", chat.sent());
    assert_eq!(channel_posts(&chat, "Weekly pulse for #team"), 1);
}

// ---------------------------------------------------------------------------------------
// Closing the round
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_closes_once_at_the_summary_time_and_the_summary_is_posted_once_with_two_schedulers()
 {
    let ws = team("2026-11-29T12:00", "", &["bob", "carol"]).await;
    let (one, c1) = ws.second_process(at("2026-11-30T10:00")).await;
    let (two, c2) = ws.second_process(at("2026-11-30T10:00")).await;
    let chat = RecordingChat::default();

    let (a, b) = tokio::join!(scheduler::tick(&one), scheduler::tick(&two));
    assert_eq!(a.expect("tick").prompted + b.expect("tick").prompted, 3);
    let (a, b) = tokio::join!(
        outbox::deliver_due(&one, &chat),
        outbox::deliver_due(&two, &chat)
    );
    assert_eq!(a.expect("delivery").sent + b.expect("delivery").sent, 3);

    // A minute before the summary time nothing closes.
    for clock in [&c1, &c2] {
        clock.set(at("2026-12-04T15:59"));
    }
    let (a, b) = tokio::join!(scheduler::tick(&one), scheduler::tick(&two));
    assert_eq!(a.expect("tick").closed + b.expect("tick").closed, 0);

    for clock in [&c1, &c2] {
        clock.set(at("2026-12-04T16:00"));
    }
    let (a, b) = tokio::join!(scheduler::tick(&one), scheduler::tick(&two));
    assert_eq!(a.expect("tick").closed + b.expect("tick").closed, 1);
    let (a, b) = tokio::join!(
        outbox::deliver_due(&one, &chat),
        outbox::deliver_due(&two, &chat)
    );
    a.expect("delivery");
    b.expect("delivery");

    for clock in [&c1, &c2] {
        clock.set(at("2026-12-04T16:05"));
    }
    let (a, b) = tokio::join!(scheduler::tick(&one), scheduler::tick(&two));
    assert_eq!(a.expect("tick").closed + b.expect("tick").closed, 0);
    let (a, b) = tokio::join!(
        outbox::deliver_due(&one, &chat),
        outbox::deliver_due(&two, &chat)
    );
    a.expect("delivery");
    b.expect("delivery");

    assert_eq!(
        channel_posts(&chat, "Weekly pulse for #team"),
        1,
        "{:#?}",
        chat.sent()
    );
    assert_eq!(
        count(&one, "SELECT closed_at FROM rounds").await,
        at("2026-12-04T16:00").timestamp()
    );
    assert_eq!(count(&one, "SELECT COUNT(*) FROM summaries").await, 1);
    assert_eq!(chat.prompts_per_user().values().sum::<usize>(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_non_responder_gets_one_reminder_when_two_schedulers_tick() {
    let ws = team("2026-11-29T12:00", "", &["bob", "carol"]).await;
    let (one, c1) = ws.second_process(at("2026-11-30T10:00")).await;
    let (two, c2) = ws.second_process(at("2026-11-30T10:00")).await;
    let chat = RecordingChat::default();
    let (a, b) = tokio::join!(scheduler::tick(&one), scheduler::tick(&two));
    assert_eq!(a.expect("tick").prompted + b.expect("tick").prompted, 3);

    for instant in ["2026-12-01T10:00", "2026-12-01T10:00", "2026-12-02T10:00"] {
        c1.set(at(instant));
        c2.set(at(instant));
        let (a, b) = tokio::join!(scheduler::tick(&one), scheduler::tick(&two));
        let (a, b) = (a.expect("tick"), b.expect("tick"));
        assert_eq!(a.prompted + b.prompted, 0, "{instant}");
        let (a, b) = tokio::join!(
            outbox::deliver_due(&one, &chat),
            outbox::deliver_due(&two, &chat)
        );
        a.expect("delivery");
        b.expect("delivery");
    }
    assert_eq!(
        reminders_sent(&chat),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
    assert_eq!(
        chat.prompts_per_user(),
        counts(&[("alice", 1), ("bob", 1), ("carol", 1)])
    );
}

#[tokio::test]
async fn a_summary_at_the_check_in_time_closes_last_weeks_round_before_the_next_one_opens() {
    let mut ws = team(
        "2026-11-29T12:00",
        "day=mon time=10:00 summary_day=mon summary_time=10:00",
        &["bob"],
    )
    .await;
    let first = ws.run("/clock 2026-11-30T10:00").await;
    assert_eq!(checkins(&first), counts(&[("alice", 1), ("bob", 1)]));
    let out = ws.run("/clock 2026-12-07T10:00").await;
    let summaries: Vec<_> = out
        .iter()
        .filter(|l| l.starts_with("bot → #team: Weekly pulse for #team"))
        .collect();
    assert_eq!(summaries.len(), 1, "{out:#?}");
    assert!(
        summaries[0].contains("week of 30 Nov 2026"),
        "{summaries:?}"
    );
    assert_eq!(
        checkins(&out),
        counts(&[("alice", 1), ("bob", 1)]),
        "{out:#?}"
    );
    let out = ws.run("/clock 2026-12-14T09:59").await;
    assert!(checkins(&out).is_empty(), "{out:#?}");
    assert!(
        !out.iter()
            .any(|l| l.starts_with("bot → #team: Weekly pulse")),
        "{out:#?}"
    );
    let rounds: Vec<(String, i64, Option<i64>)> =
        sqlx::query_as("SELECT week, closes_at, closed_at FROM rounds ORDER BY week")
            .fetch_all(&ws.app().db)
            .await
            .expect("rounds");
    let (monday, next) = (at("2026-12-07T10:00"), at("2026-12-14T10:00"));
    assert_eq!(
        rounds,
        vec![
            (
                "2026-11-30".into(),
                monday.timestamp(),
                Some(monday.timestamp())
            ),
            ("2026-12-07".into(), next.timestamp(), None),
        ]
    );
}

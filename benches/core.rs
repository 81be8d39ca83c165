//! Core benchmarks: answers recorded per second, planning a round for 10,000 members, and the
//! weekly summary over 1,000 answers. Everything runs against the real store on a temporary
//! SQLite file; see docs/benchmarks.md for what each figure means and the targets.
//!
//! Run with `cargo bench --bench core`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use peerpulse::app::{self, Actor, App, ChannelRef, EventKind, Inbound, Origin, Workspace};
use peerpulse::clock::ManualClock;
use peerpulse::config::Config;
use peerpulse::domain::action::Action;
use peerpulse::domain::command::{CheckinAnswer, Command, Note, SetupArgs};
use peerpulse::domain::summary::{self, PastRound, RoundFacts};
use peerpulse::domain::{LoadScore, MinGroupSize};
use peerpulse::scheduler;
use peerpulse::store::{self, members, rounds, teams};
use tempfile::TempDir;
use tokio::runtime::Runtime;

/// Members of the big team (figures 1 and 2).
const MEMBERS: usize = 10_000;
/// Answers in a summarized round (figure 3).
const ANSWERS: usize = 1_000;
const CHANNEL: &str = "#general";

fn at(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .expect("YYYY-MM-DDTHH:MM")
        .and_utc()
}

/// Setup happens on Wednesday 25 Nov 2026; the default schedule (UTC) prompts on Monday 10:00
/// and closes on Friday 16:00.
fn setup_time() -> DateTime<Utc> {
    at("2026-11-25T09:00")
}

fn first_checkin() -> DateTime<Utc> {
    at("2026-11-30T10:00")
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn event(user: &str, channel: &str, kind: EventKind) -> Inbound {
    Inbound {
        origin: None,
        workspace: Workspace {
            platform: "bench".into(),
            external_id: "local".into(),
        },
        actor: Actor {
            user_id: user.into(),
            name: user.into(),
            ..Actor::default()
        },
        channel: ChannelRef {
            id: channel.into(),
            name: channel.into(),
        },
        key: None,
        kind,
    }
}

fn user(i: usize) -> String {
    format!("user{i}")
}

fn score(i: usize) -> LoadScore {
    LoadScore::try_from((i % 5) as i64 + 1).expect("1..=5")
}

async fn open_app(path: &Path, now: DateTime<Utc>) -> (App, Arc<ManualClock>) {
    let db = store::connect(&url(path)).await.expect("database opens");
    let clock = Arc::new(ManualClock::new(now));
    let app = App::new(db, clock.clone(), Arc::new(Config::default()));
    (app, clock)
}

/// A team of `n` members in `#general`: `user0` sets it up (which makes them a member too) and
/// `user1..` join, all through `app::handle` as chat commands would arrive.
async fn build_team(app: &App, n: usize) -> i64 {
    let setup = EventKind::Command(Command::Setup(SetupArgs::default()));
    app::handle(app, event(&user(0), CHANNEL, setup))
        .await
        .expect("setup");
    for i in 1..n {
        let join = EventKind::Command(Command::Join);
        app::handle(app, event(&user(i), CHANNEL, join))
            .await
            .expect("join");
    }
    let mut conn = app.db.acquire().await.expect("connection");
    let team = teams::list_active(&mut conn)
        .await
        .expect("teams")
        .pop()
        .expect("one team");
    team.id
}

/// Closes the pool after folding the WAL into the main file, so the file can be copied.
async fn close(app: App) {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&app.db)
        .await
        .expect("checkpoint");
    app.db.close().await;
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// One DB file holding a team of `MEMBERS` members and no round yet.
struct Template {
    dir: TempDir,
    path: PathBuf,
}

fn big_team_template(rt: &Runtime) -> Template {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("template.db");
    rt.block_on(async {
        let started = Instant::now();
        let (app, _) = open_app(&path, setup_time()).await;
        build_team(&app, MEMBERS).await;
        close(app).await;
        eprintln!(
            "setup: {MEMBERS} members joined through app::handle in {:.1?}",
            started.elapsed()
        );
    });
    Template { dir, path }
}

impl Template {
    fn copy(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        remove_db(&path);
        std::fs::copy(&self.path, &path).expect("copy template");
        path
    }
}

// ---------------------------------------------------------------------------------------------
// Figure 1: answers recorded per second.

/// A member still to answer in the open round.
struct Pending {
    user: String,
    prompt: i64,
    score: LoadScore,
}

/// The big team on its own file, with an open round; hands out members who have not
/// answered yet, opening next week's round (outside the timed part) when they run out.
struct AnswerRig {
    app: App,
    clock: Arc<ManualClock>,
    team_id: i64,
    checkin: DateTime<Utc>,
    pending: Vec<Pending>,
    rounds: u32,
}

impl AnswerRig {
    fn new(rt: &Runtime, template: &Template) -> AnswerRig {
        let path = template.copy("answers.db");
        rt.block_on(async {
            let (app, clock) = open_app(&path, setup_time()).await;
            let mut conn = app.db.acquire().await.expect("connection");
            let team_id = teams::list_active(&mut conn).await.expect("teams")[0].id;
            drop(conn);
            AnswerRig {
                app,
                clock,
                team_id,
                checkin: first_checkin() - TimeDelta::days(7),
                pending: Vec::new(),
                rounds: 0,
            }
        })
    }

    /// `n` members who may answer now.
    async fn take(&mut self, n: usize) -> Vec<Pending> {
        while self.pending.len() < n {
            self.next_round().await;
        }
        let at = self.pending.len() - n;
        self.pending.split_off(at)
    }

    /// Moves to next Monday 10:00 and ticks: the previous round closes (with its summary) and
    /// everyone is prompted for the new one. The clock then stays 5 minutes after the prompt.
    async fn next_round(&mut self) {
        self.checkin += TimeDelta::days(7);
        self.clock.set(self.checkin);
        let report = scheduler::tick(&self.app).await.expect("tick");
        assert_eq!(report.prompted as usize, MEMBERS, "{report:?}");
        let mut conn = self.app.db.acquire().await.expect("connection");
        let now = self.checkin.timestamp();
        let round = rounds::open_for_team(&mut conn, self.team_id)
            .await
            .expect("round")
            .expect("open round");
        let roster = members::roster(&mut conn, self.team_id, now)
            .await
            .expect("roster");
        self.pending.clear();
        for (i, member) in roster.into_iter().enumerate() {
            let Some(prompt) = rounds::find_prompt(&mut conn, round.id, member.member_id)
                .await
                .expect("prompt")
            else {
                continue;
            };
            self.pending.push(Pending {
                user: member.external_id,
                prompt: prompt.id,
                score: score(i + self.rounds as usize),
            });
        }
        self.rounds += 1;
        self.clock.set(self.checkin + TimeDelta::minutes(5));
    }
}

type MakeEvent = fn(&Pending) -> Inbound;

/// A click on a load button in the prompt DM, as a platform delivers it: with an interaction
/// id (deduplicated) and the message clicked on (which the answer replaces).
fn click(p: &Pending) -> Inbound {
    let action = Action::Answer {
        prompt: p.prompt,
        score: p.score,
    };
    let dm = format!("dm-{}", p.user);
    Inbound {
        key: Some(format!("click-{}", p.prompt)),
        origin: Some(Origin {
            channel: dm.clone(),
            message: format!("msg-{}", p.prompt),
        }),
        ..event(&p.user, &dm, EventKind::Action(action))
    }
}

/// `/pulse checkin N note` typed in the team channel.
fn typed(p: &Pending) -> Inbound {
    let answer = CheckinAnswer {
        score: p.score,
        note: Some(Note::parse("too many meetings this week").expect("note")),
    };
    event(
        &p.user,
        CHANNEL,
        EventKind::Command(Command::Checkin(Some(answer))),
    )
}

fn bench_answers(c: &mut Criterion, rt: &Runtime, template: &Template) {
    let mut rig = AnswerRig::new(rt, template);
    let mut group = c.benchmark_group("answers");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(1));

    let inputs: [(&str, MakeEvent); 2] = [("click", click), ("command", typed)];
    for (name, make) in inputs {
        // A fresh round for each function, so that criterion's warm-up (which counts the
        // untimed set-up in its estimate) never includes opening a round.
        rt.block_on(rig.next_round());
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let batch = rig.take(iters as usize).await;
                    let events: Vec<Inbound> = batch.iter().map(make).collect();
                    let app = rig.app.clone();
                    let started = Instant::now();
                    for event in events {
                        app::handle(&app, event).await.expect("answer");
                    }
                    started.elapsed()
                })
            })
        });
    }

    // The same clicks arriving from concurrent requests (as webhooks would): events that
    // arrive together share one write transaction (group commit).
    for lanes_n in [4usize, 64] {
        rt.block_on(rig.next_round());
        group.bench_function(format!("click_{lanes_n}_concurrent"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let batch = rig.take(iters as usize).await;
                    let mut lanes: Vec<Vec<Inbound>> = vec![Vec::new(); lanes_n];
                    for (i, p) in batch.iter().enumerate() {
                        lanes[i % lanes_n].push(click(p));
                    }
                    let started = Instant::now();
                    let tasks: Vec<_> = lanes
                        .into_iter()
                        .map(|lane| {
                            let app = rig.app.clone();
                            tokio::spawn(async move {
                                for event in lane {
                                    app::handle(&app, event).await.expect("answer");
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("task");
                    }
                    started.elapsed()
                })
            })
        });
    }
    group.finish();

    // Floors, for reading the figures above: one statement round trip to SQLite through
    // sqlx (each statement is handed to the connection's worker thread and back), and an
    // empty write transaction as `app::handle` opens and commits one.
    let mut group = c.benchmark_group("store_floor");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let db = rig.app.db.clone();
    group.bench_function("select_1", |b| {
        let mut conn = rt.block_on(db.acquire()).expect("connection");
        b.iter(|| {
            rt.block_on(sqlx::query("SELECT 1").execute(&mut *conn))
                .expect("select")
        })
    });
    group.bench_function("empty_write_tx", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tx = store::begin(&db).await.expect("begin");
                tx.commit().await.expect("commit");
            })
        })
    });
    group.finish();

    rt.block_on(async {
        let mut conn = rig.app.db.acquire().await.expect("connection");
        let round = rounds::open_for_team(&mut conn, rig.team_id)
            .await
            .expect("round")
            .expect("open round");
        let counted = rounds::count_answers(&mut conn, round.id)
            .await
            .expect("count");
        eprintln!(
            "answers: {} rounds opened; {counted} answers in the open round",
            rig.rounds
        );
    });
}

// ---------------------------------------------------------------------------------------------
// Figure 2: planning a round for 10,000 members.

fn bench_plan(c: &mut Criterion, rt: &Runtime, template: &Template) {
    let mut group = c.benchmark_group("plan_round");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(MEMBERS as u64));
    group.bench_function("tick_10k_members", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = template.copy("plan.db");
                total += rt.block_on(async {
                    let (app, _) = open_app(&path, first_checkin()).await;
                    let started = Instant::now();
                    let report = scheduler::tick(&app).await.expect("tick");
                    let elapsed = started.elapsed();
                    assert_eq!(report.prompted as usize, MEMBERS, "{report:?}");
                    app.db.close().await;
                    elapsed
                });
                remove_db(&path);
            }
            total
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Figure 3: the weekly summary over 1,000 answers.

fn note(i: usize) -> String {
    format!("note {i}: too many meetings, the release slipped again")
}

fn facts() -> (RoundFacts, Vec<PastRound>) {
    let facts = RoundFacts {
        members: 1_200,
        scores: (0..ANSWERS).map(score).collect(),
        notes: (0..ANSWERS).map(note).collect(),
        asks_made: 12,
        offers_given: 9,
        first_offer_delays: (0..9).map(|i| TimeDelta::minutes(10 + 7 * i)).collect(),
        asks_without_offer: 3,
    };
    let history = [2.4, 2.6, 2.7, 2.8, 2.9, 2.95].map(|mean| PastRound {
        mean: Some(mean),
        responses: 1_050,
        members: 1_200,
    });
    (facts, history.to_vec())
}

fn bench_summary(c: &mut Criterion, rt: &Runtime) {
    let (facts, history) = facts();
    let min_group = MinGroupSize::default();
    let mut group = c.benchmark_group("summary");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("summarize_render_1k", |b| {
        b.iter_batched(
            || facts.clone(),
            |facts| {
                let s = summary::summarize(facts, &history, min_group, &mut rand::rng());
                summary::render_text(
                    &s,
                    min_group,
                    "Weekly pulse for #general, week of 30 Nov 2026",
                )
            },
            BatchSize::SmallInput,
        )
    });

    let mut rig = CloseRig::new(rt);
    // Enough rounds for criterion's warm-up, which counts untimed set-up in its estimate.
    rt.block_on(rig.fill(100));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sampling_mode(SamplingMode::Flat);
    group.bench_function("close_round_1k_answers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let round = rig.take().await;
                    let now = rig.app.now().timestamp();
                    let started = Instant::now();
                    let mut tx = store::begin(&rig.app.db).await.expect("begin");
                    let closed = app::close_round(&mut tx, &round, now)
                        .await
                        .map_err(|f| f.into_error())
                        .expect("close");
                    tx.commit().await.expect("commit");
                    total += started.elapsed();
                    assert!(closed);
                }
                total
            })
        })
    });
    group.finish();
}

/// A team of 1,000 members and a supply of rounds, each with 1,000 answers (all with a note),
/// written through the store functions outside the timed part.
struct CloseRig {
    _dir: TempDir,
    app: App,
    team_id: i64,
    weeks: u32,
    ready: Vec<rounds::Round>,
}

impl CloseRig {
    fn new(rt: &Runtime) -> CloseRig {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("close.db");
        rt.block_on(async {
            let (app, _) = open_app(&path, at("2026-12-04T16:00")).await;
            let team_id = build_team(&app, ANSWERS).await;
            CloseRig {
                _dir: dir,
                app,
                team_id,
                weeks: 0,
                ready: Vec::new(),
            }
        })
    }

    async fn take(&mut self) -> rounds::Round {
        if self.ready.is_empty() {
            self.fill(50).await;
        }
        self.ready.pop().expect("a filled round")
    }

    async fn fill(&mut self, n: u32) {
        let now = self.app.now();
        let mut tx = store::begin(&self.app.db).await.expect("begin");
        for _ in 0..n {
            let week = chrono::NaiveDate::from_ymd_opt(2020, 1, 6).expect("date")
                + TimeDelta::weeks(i64::from(self.weeks));
            self.weeks += 1;
            let opened = (now - TimeDelta::days(4)).timestamp();
            let week = week.format("%Y-%m-%d").to_string();
            let round = rounds::get_or_open(&mut tx, self.team_id, &week, opened, now.timestamp())
                .await
                .expect("round");
            rounds::add_prompted(&mut tx, round.id, ANSWERS as i64)
                .await
                .expect("prompted");
            for i in 0..ANSWERS {
                rounds::insert_answer(&mut tx, round.id, score(i).value(), Some(&note(i)))
                    .await
                    .expect("answer");
            }
            let round = rounds::get(&mut tx, round.id)
                .await
                .expect("round")
                .expect("round");
            self.ready.push(round);
        }
        tx.commit().await.expect("commit");
    }
}

// ---------------------------------------------------------------------------------------------

fn benches(c: &mut Criterion) {
    let rt = runtime();
    // Pooled connections given back outside `block_on` need a runtime to return to.
    let _context = rt.enter();
    bench_summary(c, &rt);
    let template = big_team_template(&rt);
    bench_answers(c, &rt, &template);
    bench_plan(c, &rt, &template);
}

criterion_group!(core, benches);
criterion_main!(core);

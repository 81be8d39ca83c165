//! The `peerpulse` binary as an operator runs it: the console workspace replaying the example
//! week, `--version` and `--help`, `run` without a platform, `migrate`, and a bad `--now`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_peerpulse");
const FIRST_WEEK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/first-week.txt");

/// The binary, run in `dir` with no config file and none of the operator's environment.
fn peerpulse(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("PEERPULSE")
            || key.starts_with("SLACK_")
            || key.starts_with("DISCORD_")
            || key == "RUST_LOG"
        {
            command.env_remove(key);
        }
    }
    command
}

fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

#[test]
fn the_first_week_example_replays_to_a_full_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("first-week.db");
    let (output, stdout, stderr) = run(peerpulse(dir.path())
        .arg("chat")
        .arg("--db")
        .arg(&db)
        .arg("--script")
        .arg(FIRST_WEEK));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Weekly pulse for #platform"), "{stdout}");
    assert!(stdout.contains("Responses: 6/6"), "{stdout}");
    assert!(
        stdout.contains("bot → @bob (dm): @fay from #platform can take something off your plate"),
        "{stdout}"
    );
    assert!(db.exists(), "the workspace is stored in --db");
    assert!(
        !dir.path().join("peerpulse-local.db").exists(),
        "--db replaces the default file"
    );
    // Leaving folds the write-ahead log into the file: a copy of the file alone is the
    // whole workspace.
    let wal = dir.path().join("first-week.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).expect("wal").len() == 0,
        "the write-ahead log is folded into the database on exit"
    );
    let copy = dir.path().join("copy.db");
    std::fs::copy(&db, &copy).expect("copy");
    let (answers, summaries) = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let url = format!("sqlite://{}?mode=ro", copy.display());
            let pool = sqlx::SqlitePool::connect(&url)
                .await
                .expect("the copy opens");
            let answers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM answers")
                .fetch_one(&pool)
                .await
                .expect("answers");
            let summaries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM summaries")
                .fetch_one(&pool)
                .await
                .expect("summaries");
            (answers, summaries)
        });
    assert_eq!(
        (answers, summaries),
        (6, 1),
        "the copy holds the whole week"
    );
}

#[test]
fn version_and_help_exit_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, stdout, stderr) = run(peerpulse(dir.path()).arg("--version"));
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains(env!("CARGO_PKG_VERSION")),
        "version in {stdout}"
    );
    let (output, stdout, stderr) = run(peerpulse(dir.path()).arg("--help"));
    assert!(output.status.success(), "{stderr}");
    for command in ["chat", "run", "migrate"] {
        assert!(stdout.contains(command), "{command} in {stdout}");
    }
    let (output, stdout, stderr) = run(peerpulse(dir.path()).args(["chat", "--help"]));
    assert!(output.status.success(), "{stderr}");
    for flag in ["--script", "--db", "--now"] {
        assert!(stdout.contains(flag), "{flag} in {stdout}");
    }
}

#[test]
fn run_without_a_platform_exits_non_zero_and_points_to_chat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bot.db").display());
    let (output, stdout, stderr) = run(peerpulse(dir.path())
        .arg("run")
        .env("PEERPULSE_DATABASE_URL", url));
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("peerpulse chat"),
        "the message points to `peerpulse chat`: {stderr}"
    );
    assert!(stderr.contains("no platform"), "{stderr}");
}

#[test]
fn migrate_creates_the_database_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("data").with_extension("db");
    let url = format!("sqlite://{}", file.display());
    for _ in 0..2 {
        let (output, stdout, stderr) = run(peerpulse(dir.path())
            .arg("migrate")
            .env("PEERPULSE_DATABASE_URL", &url));
        assert!(output.status.success(), "{stdout}\n{stderr}");
        assert!(file.exists(), "{} created", file.display());
        assert!(std::fs::metadata(&file).expect("metadata").len() > 0);
    }
    assert!(
        !dir.path().join("peerpulse.db").exists(),
        "the environment overrides the default database"
    );
}

#[test]
fn a_bad_now_value_exits_non_zero_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("chat.db");
    for bad in ["yesterday", "2026-13-01T09:00", "2026-11-30 09:00", ""] {
        let (output, stdout, stderr) = run(peerpulse(dir.path())
            .arg("chat")
            .arg("--db")
            .arg(&db)
            .arg("--script")
            .arg(FIRST_WEEK)
            .arg("--now")
            .arg(bad));
        assert!(!output.status.success(), "--now {bad:?}: {stdout}");
        assert!(stderr.contains("--now"), "--now {bad:?}: {stderr}");
        assert!(
            stderr.contains("YYYY-MM-DDTHH:MM"),
            "--now {bad:?} explains the format: {stderr}"
        );
        assert!(stdout.is_empty(), "--now {bad:?} ran anyway: {stdout}");
    }
    assert!(!db.exists(), "nothing was created");
}

#[test]
fn a_missing_script_exits_non_zero_and_names_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("no-such-script.txt");
    let (output, stdout, stderr) = run(peerpulse(dir.path())
        .arg("chat")
        .arg("--db")
        .arg(dir.path().join("chat.db"))
        .arg("--script")
        .arg(&script)
        .arg("--now")
        .arg("2026-11-29T12:00"));
    assert!(!output.status.success(), "{stdout}");
    assert!(stderr.contains("no-such-script.txt"), "{stderr}");
}

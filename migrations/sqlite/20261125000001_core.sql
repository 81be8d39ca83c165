-- The core schema. Times are epoch seconds (UTC). Answers carry no member, no platform user
-- and no time finer than their round; their primary key is random and the table has no rowid.
-- Integer ids never repeat (AUTOINCREMENT): an erased person's ids are not handed to others.

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    platform    TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    disabled_at INTEGER,
    created_at  INTEGER NOT NULL,
    UNIQUE (platform, external_id)
);

-- A person on a platform. Pause and timezone follow the person across teams.
CREATE TABLE users (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    external_id  TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    tz           TEXT,
    paused_until INTEGER,
    dm_opt_in    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, external_id)
);

-- A channel bound as a team, with its schedule and settings.
CREATE TABLE teams (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id     INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel          TEXT    NOT NULL,
    channel_name     TEXT    NOT NULL,
    admin_user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    tz               TEXT    NOT NULL,
    checkin_day      TEXT    NOT NULL,
    checkin_time     TEXT    NOT NULL,
    summary_day      TEXT    NOT NULL,
    summary_time     TEXT    NOT NULL,
    min_group_size   INTEGER NOT NULL,
    resources        TEXT    NOT NULL,
    reminder_after   INTEGER NOT NULL,
    nudge_fanout     INTEGER NOT NULL,
    streak_threshold INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (workspace_id, channel)
);

-- Membership of a person in a team. `streak` is the only per-person strain state.
CREATE TABLE members (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id   INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    capacity  INTEGER NOT NULL DEFAULT 0,
    streak    INTEGER NOT NULL DEFAULT 0,
    joined_at INTEGER NOT NULL,
    left_at   INTEGER,
    UNIQUE (team_id, user_id)
);

-- One round per team per week (`week` is the Monday of that week, YYYY-MM-DD).
CREATE TABLE rounds (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id   INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    week      TEXT    NOT NULL,
    opened_at INTEGER NOT NULL,
    closes_at INTEGER NOT NULL,
    closed_at INTEGER,
    prompted  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (team_id, week)
);
CREATE INDEX rounds_open ON rounds (closes_at) WHERE closed_at IS NULL;

-- A check-in prompt sent to a member. The unique key is the scheduler's claim: one prompt per
-- member per round, whoever ticks.
CREATE TABLE prompts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id    INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    member_id   INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    due_at      INTEGER NOT NULL,
    sent_at     INTEGER NOT NULL,
    remind_at   INTEGER NOT NULL,
    reminded_at INTEGER,
    UNIQUE (round_id, member_id)
);
CREATE INDEX prompts_remind ON prompts (remind_at) WHERE reminded_at IS NULL;
CREATE INDEX prompts_member ON prompts (member_id);

-- Whether a member answered a round; what they answered is in `answers`, unlinked.
CREATE TABLE participations (
    round_id  INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (round_id, member_id)
) WITHOUT ROWID;
CREATE INDEX participations_member ON participations (member_id);

CREATE TABLE answers (
    id       TEXT    PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    score    INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    note     TEXT
) WITHOUT ROWID;
CREATE INDEX answers_round ON answers (round_id);

-- A request for help. `asker_member_id` is cleared when the asker erases their data.
CREATE TABLE asks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id         INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    asker_member_id INTEGER REFERENCES members (id) ON DELETE SET NULL,
    named           INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    release_at      INTEGER NOT NULL,
    released_at     INTEGER,
    widen_at        INTEGER NOT NULL,
    widened_at      INTEGER,
    expires_at      INTEGER NOT NULL,
    first_offer_at  INTEGER,
    offers          INTEGER NOT NULL DEFAULT 0,
    closed_at       INTEGER
);
CREATE INDEX asks_open ON asks (team_id) WHERE closed_at IS NULL;

CREATE TABLE nudges (
    ask_id    INTEGER NOT NULL REFERENCES asks (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (ask_id, member_id)
);

CREATE TABLE offers (
    ask_id     INTEGER NOT NULL REFERENCES asks (id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (ask_id, member_id)
);

-- Published weekly summaries; the only source of trends and exports. `mean` and
-- `distribution` are NULL when the round had fewer respondents than the minimum group.
CREATE TABLE summaries (
    round_id     INTEGER PRIMARY KEY REFERENCES rounds (id) ON DELETE CASCADE,
    team_id      INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    published_at INTEGER NOT NULL,
    responses    INTEGER NOT NULL,
    members      INTEGER NOT NULL,
    mean         REAL,
    distribution TEXT,
    body         TEXT    NOT NULL
);
CREATE INDEX summaries_team ON summaries (team_id, published_at);

-- Every outgoing message, written in the transaction of the change that caused it.
-- A message to a person is deleted once delivered or given up; channel posts stay.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    destination     TEXT    NOT NULL,
    body            TEXT,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   INTEGER,
    sent_at         INTEGER,
    failed_at       INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Short button ids for the console workspace (`/click b12`).
CREATE TABLE console_buttons (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id TEXT NOT NULL
);

-- Inbound events already handled (platform retries and replayed interactions).
CREATE TABLE inbound_events (
    key     TEXT    PRIMARY KEY,
    seen_at INTEGER NOT NULL
);

-- Slack: bot tokens from OAuth installs (encrypted with PEERPULSE_SECRET_KEY) and the DM
-- channel of each person, so conversations.open is called once per person.

CREATE TABLE workspace_tokens (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    bot_token    TEXT    NOT NULL,
    bot_user_id  TEXT,
    installed_at INTEGER NOT NULL
);

CREATE TABLE dm_channels (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    channel TEXT    NOT NULL
);

//! OAuth v2 install for several workspaces: `/slack/install` redirects to Slack with a signed,
//! expiring `state` that is also set as a cookie (CSRF), and `/slack/oauth/callback` checks
//! both, exchanges the code with `oauth.v2.access`, and stores the bot token encrypted.

use crate::store;

use super::Slack;
use super::inbound::PLATFORM;

pub const STATE_COOKIE: &str = "peerpulse_oauth_state";
const STATE_PURPOSE: &str = "slack-oauth-state";
const STATE_TTL_SECONDS: i64 = 600;

/// The scopes peerpulse asks for, and no more.
pub const BOT_SCOPES: &[&str] = &[
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "files:write",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    #[error("the install link expired or was not started here; start again from /slack/install")]
    BadState,
    #[error("Slack refused the install: {0}")]
    Refused(String),
}

/// Where `/slack/install` sends the browser, and the state cookie to set.
pub fn start(slack: &Slack, now: i64) -> Option<(String, String)> {
    let client_id = slack.settings.client_id.as_deref()?;
    let state = slack
        .tokens
        .key()
        .sign_expiring(STATE_PURPOSE, now + STATE_TTL_SECONDS);
    let base = slack.api.base_url().trim_end_matches("/api");
    let location = format!(
        "{base}/oauth/v2/authorize?client_id={}&scope={}&state={}",
        urlencode(client_id),
        urlencode(&BOT_SCOPES.join(",")),
        urlencode(&state)
    );
    Some((location, state))
}

/// Completes an install. Returns the workspace's name.
pub async fn finish(
    slack: &Slack,
    code: &str,
    state: &str,
    cookie: Option<&str>,
    now: i64,
) -> anyhow::Result<Result<String, InstallError>> {
    let key = slack.tokens.key();
    if cookie != Some(state) || !key.verify_expiring(STATE_PURPOSE, state, now) {
        return Ok(Err(InstallError::BadState));
    }
    let (Some(client_id), Some(client_secret)) =
        (&slack.settings.client_id, &slack.settings.client_secret)
    else {
        return Ok(Err(InstallError::Refused("OAuth is not configured".into())));
    };
    let grant = match slack.api.oauth_access(client_id, client_secret, code).await {
        Ok(grant) => grant,
        Err(error) => return Ok(Err(InstallError::Refused(error.to_string()))),
    };
    let mut tx = store::begin(&slack.app.db).await?;
    let workspace_id =
        store::users::upsert_workspace(&mut tx, PLATFORM, &grant.team_id, now).await?;
    store::slack::save_token(
        &mut tx,
        workspace_id,
        &key.seal(&grant.bot_token),
        grant.bot_user_id.as_deref(),
        now,
    )
    .await?;
    store::users::enable_workspace(&mut tx, workspace_id).await?;
    tx.commit().await?;
    slack.tokens.forget(workspace_id);
    tracing::info!(team = %grant.team_id, "peerpulse installed in a Slack workspace");
    Ok(Ok(grant.team_name))
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

//! `peerpulse slack manifest`: the Slack app manifest for a deployment.

use serde_json::{Value, json};

use super::oauth::BOT_SCOPES;

/// The manifest for a bot served at `base_url` (HTTP endpoints), or over Socket Mode.
pub fn manifest(base_url: &str, socket_mode: bool) -> Value {
    let base = base_url.trim_end_matches('/');
    let mut command = json!({
        "command": "/pulse",
        "description": "Weekly anonymous check-in on workload",
        "usage_hint": "help | join | checkin | ask | pause 2w | me",
        "should_escape": false
    });
    let mut interactivity = json!({"is_enabled": true});
    let mut events = json!({"bot_events": ["app_uninstalled", "tokens_revoked"]});
    let mut oauth = json!({"scopes": {"bot": BOT_SCOPES}});
    if !socket_mode {
        command["url"] = json!(format!("{base}/slack/commands"));
        interactivity["request_url"] = json!(format!("{base}/slack/interactions"));
        events["request_url"] = json!(format!("{base}/slack/events"));
        oauth["redirect_urls"] = json!([format!("{base}/slack/oauth/callback")]);
    }
    json!({
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "peerpulse",
            "description": "Anonymous weekly check-ins on workload, and a way to ask teammates for help.",
            "background_color": "#2c4a6e"
        },
        "features": {
            "app_home": {"home_tab_enabled": false, "messages_tab_enabled": true, "messages_tab_read_only_enabled": false},
            "bot_user": {"display_name": "peerpulse", "always_online": true},
            "slash_commands": [command]
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": false,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_points_every_url_at_the_deployment() {
        let m = manifest("https://pulse.example.com/", false);
        assert_eq!(
            m["features"]["slash_commands"][0]["url"],
            "https://pulse.example.com/slack/commands"
        );
        assert_eq!(
            m["settings"]["interactivity"]["request_url"],
            "https://pulse.example.com/slack/interactions"
        );
        assert_eq!(
            m["settings"]["event_subscriptions"]["request_url"],
            "https://pulse.example.com/slack/events"
        );
        assert_eq!(
            m["oauth_config"]["scopes"]["bot"].as_array().unwrap().len(),
            BOT_SCOPES.len()
        );
        let socket = manifest("https://x", true);
        assert_eq!(socket["settings"]["socket_mode_enabled"], true);
        assert!(socket["features"]["slash_commands"][0].get("url").is_none());
    }
}

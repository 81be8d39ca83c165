//! Slack request signatures: `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing
//! secret, compared in constant time, on the raw bytes before anything is parsed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Requests older or newer than this are refused (replay protection).
pub const MAX_SKEW_SECONDS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Slack-Request-Timestamp or X-Slack-Signature")]
    Missing,
    #[error("malformed timestamp or signature")]
    Malformed,
    #[error("timestamp outside the allowed window")]
    Stale,
    #[error("signature does not match")]
    Mismatch,
}

/// Checks a request's signature headers against its raw body.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SignatureError::Missing);
    };
    if timestamp.is_empty()
        || timestamp.len() > 12
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(SignatureError::Malformed);
    }
    let ts: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if (now - ts).abs() > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale);
    }
    let hex_sig = signature
        .strip_prefix("v0=")
        .ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    let mut mac = mac(secret, timestamp);
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The signature Slack would send for `body` at `timestamp` (used by tools and tests).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret, &timestamp.to_string());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn mac(secret: &str, timestamp: &str) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length works");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

    #[test]
    fn slacks_documented_example_verifies() {
        // The example from Slack's "Verifying requests" guide.
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(
            verify(SECRET, Some("1531420618"), Some(sig), body, 1531420618),
            Ok(())
        );
        assert_eq!(sign(SECRET, 1531420618, body), sig);
    }

    #[test]
    fn anything_off_is_refused() {
        let body = b"text=hello";
        let now = 1_700_000_000;
        let good = sign(SECRET, now, body);
        let ts = now.to_string();
        assert_eq!(verify(SECRET, Some(&ts), Some(&good), body, now), Ok(()));
        assert_eq!(
            verify(SECRET, Some(&ts), Some(&good), b"text=hellp", now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("other", Some(&ts), Some(&good), body, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(&ts), Some(&good), body, now + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, Some(&ts), Some(&good), body, now - 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, None, Some(&good), body, now),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some(&ts), None, body, now),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some("12a"), Some(&good), body, now),
            Err(SignatureError::Malformed)
        );
        let v1 = good.replacen("v0=", "v1=", 1);
        assert_eq!(
            verify(SECRET, Some(&ts), Some(&v1), body, now),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, Some(&ts), Some("v0=zz"), body, now),
            Err(SignatureError::Malformed)
        );
    }
}

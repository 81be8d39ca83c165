//! The deployment's secret key (`PEERPULSE_SECRET_KEY`, or generated into the data directory
//! with mode 0600), and what it protects: bot tokens at rest and OAuth `state` values.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub const KEY_FILE: &str = "peerpulse-secret.key";

/// 32 secret bytes. `Debug` never shows them.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    pub fn from_hex(text: &str) -> anyhow::Result<Self> {
        let bytes = hex::decode(text.trim()).context("PEERPULSE_SECRET_KEY is not hex")?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            anyhow::anyhow!("PEERPULSE_SECRET_KEY must be 32 bytes (64 hex digits)")
        })?;
        Ok(SecretKey(bytes))
    }

    /// `PEERPULSE_SECRET_KEY` if set; else the key file in `dir`, created (mode 0600) if absent.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        if let Ok(text) = std::env::var("PEERPULSE_SECRET_KEY") {
            return Self::from_hex(&text);
        }
        let path = dir.join(KEY_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return Self::from_hex(&text);
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        write_private(&path, &hex::encode(key))?;
        tracing::info!(path = %path.display(), "generated a new secret key");
        Ok(SecretKey(key))
    }

    /// Encrypts a token for storage: `v1:` + base64url(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(&XNonce::from(nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("v1:{}", URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        let body = sealed.strip_prefix("v1:").context("unknown token format")?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .context("token is not base64")?;
        anyhow::ensure!(bytes.len() > 24, "token too short");
        let (nonce, ciphertext) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into()?;
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let plain = cipher
            .decrypt(&XNonce::from(nonce), ciphertext)
            .map_err(|_| {
                anyhow::anyhow!("token does not decrypt with this PEERPULSE_SECRET_KEY")
            })?;
        Ok(String::from_utf8(plain)?)
    }

    /// An HMAC-SHA256 tag of `data` under a key derived for `purpose`.
    pub fn tag(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length works");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// A signed value that expires: `base64url(expiry ‖ nonce).hex(tag)`.
    pub fn sign_expiring(&self, purpose: &str, expires_at: i64) -> String {
        let mut payload = expires_at.to_be_bytes().to_vec();
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        payload.extend(nonce);
        let tag = self.tag(purpose, &payload);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), hex::encode(tag))
    }

    /// Whether `value` was made by [`Self::sign_expiring`] for `purpose` and is unexpired.
    pub fn verify_expiring(&self, purpose: &str, value: &str, now: i64) -> bool {
        let Some((payload, tag)) = value.split_once('.') else {
            return false;
        };
        let (Ok(payload), Ok(tag)) = (URL_SAFE_NO_PAD.decode(payload), hex::decode(tag)) else {
            return false;
        };
        if payload.len() != 24 {
            return false;
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length works");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(&payload);
        if mac.verify_slice(&tag).is_err() {
            return false;
        }
        let expires = i64::from_be_bytes(payload[..8].try_into().unwrap_or_default());
        now <= expires
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_do_not_open_with_another_key() {
        let key = SecretKey([7; 32]);
        let sealed = key.seal("xoxb-123");
        assert!(!sealed.contains("xoxb"));
        assert_eq!(key.open(&sealed).unwrap(), "xoxb-123");
        assert!(SecretKey([8; 32]).open(&sealed).is_err());
        assert_ne!(key.seal("xoxb-123"), sealed, "nonces are random");
    }

    #[test]
    fn expiring_values_check_purpose_tag_and_time() {
        let key = SecretKey([1; 32]);
        let state = key.sign_expiring("oauth", 1_000);
        assert!(key.verify_expiring("oauth", &state, 999));
        assert!(!key.verify_expiring("oauth", &state, 1_001));
        assert!(!key.verify_expiring("other", &state, 999));
        assert!(!SecretKey([2; 32]).verify_expiring("oauth", &state, 999));
        let mut forged = state.clone();
        forged.pop();
        forged.push(if state.ends_with('0') { '1' } else { '0' });
        assert!(!key.verify_expiring("oauth", &forged, 999));
        assert!(!key.verify_expiring("oauth", "garbage", 999));
    }

    #[test]
    fn a_generated_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        if std::env::var("PEERPULSE_SECRET_KEY").is_ok() {
            return;
        }
        let first = SecretKey::load(dir.path()).unwrap();
        let second = SecretKey::load(dir.path()).unwrap();
        assert_eq!(first.0, second.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

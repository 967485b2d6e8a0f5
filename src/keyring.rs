//! The server's data keys (`DVK_DATA_KEYS`): what it keeps secret at rest with. Webhook signing
//! secrets are sealed with them (XChaCha20-Poly1305), and service-account secrets are kept as a
//! keyed hash (HMAC-SHA-256) under them: a 256-bit random secret needs no password stretching,
//! and a database copied without the key reveals neither.
//!
//! The list is `kid:base64-of-32-bytes`, comma-separated, the first being current. What is
//! written uses the current key; what was written under an older key of the list still opens
//! (and is moved to the current key: webhook secrets at start-up, client secrets at their next
//! use). A key may leave the list once nothing written under it is left.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

struct DataKey {
    kid: String,
    seal: [u8; 32],
    mac: [u8; 32],
}

#[derive(Clone)]
pub struct Keyring {
    keys: std::sync::Arc<Vec<DataKey>>,
    /// Keyed-hash checks made, decoys included: what makes a refusal cost the same whoever asks
    /// can be counted rather than timed.
    checks: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        write!(f, "Keyring({kids:?})")
    }
}

/// One key for each use, derived from the operator's key, so that a hash never equals a
/// ciphertext's key stream.
fn derive(key: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Keyring {
    pub fn parse(list: &str) -> Result<Keyring, String> {
        let mut keys = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (kid, encoded) = item.split_once(':').ok_or("each key is kid:base64")?;
            let kid = kid.trim();
            if kid.is_empty()
                || kid.len() > 32
                || !kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!("key id {kid:?} must be 1 to 32 letters, digits, - or _"));
            }
            let raw = STANDARD
                .decode(encoded.trim())
                .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim()))
                .map_err(|_| format!("key {kid} is not base64"))?;
            if raw.len() != 32 {
                return Err(format!("key {kid} must be 32 bytes (it is {}); make one with `dvk data-key`", raw.len()));
            }
            if keys.iter().any(|k: &DataKey| k.kid == kid) {
                return Err(format!("key id {kid} appears twice"));
            }
            keys.push(DataKey {
                kid: kid.to_string(),
                seal: derive(&raw, "dvk seal v1"),
                mac: derive(&raw, "dvk mac v1"),
            });
        }
        if keys.is_empty() {
            return Err("no key is listed".into());
        }
        Ok(Keyring { keys: std::sync::Arc::new(keys), checks: Default::default() })
    }

    /// A new key entry for `DVK_DATA_KEYS`: `kid:base64`.
    pub fn generate_entry(kid: &str) -> String {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        format!("{kid}:{}", STANDARD.encode(raw))
    }

    fn current(&self) -> &DataKey {
        &self.keys[0]
    }

    fn by_kid(&self, kid: &str) -> Option<&DataKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// `sealed:v1:{kid}:{base64(nonce ‖ ciphertext)}`.
    pub fn seal(&self, plaintext: &str) -> String {
        let key = self.current();
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new((&key.seal).into());
        let sealed = cipher.encrypt(&XNonce::from(nonce), plaintext.as_bytes()).expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("sealed:v1:{}:{}", key.kid, STANDARD.encode(out))
    }

    /// Whether `stored` was sealed under the current key.
    pub fn is_current_seal(&self, stored: &str) -> bool {
        stored
            .strip_prefix("sealed:v1:")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(kid, _)| kid == self.current().kid)
    }

    /// The plaintext of a sealed value; `None` when it is not sealed, its key is not in the
    /// ring, or it was tampered with.
    pub fn open(&self, stored: &str) -> Option<String> {
        let (kid, body) = stored.strip_prefix("sealed:v1:")?.split_once(':')?;
        let key = self.by_kid(kid)?;
        let bytes = STANDARD.decode(body).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().ok()?;
        let plain = XChaCha20Poly1305::new((&key.seal).into()).decrypt(&XNonce::from(nonce), sealed).ok()?;
        String::from_utf8(plain).ok()
    }

    fn mac_with(key: &DataKey, secret: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.mac).expect("HMAC takes any key");
        mac.update(secret.as_bytes());
        mac
    }

    /// `hmac-sha256:{kid}:{hex}`: a keyed hash of a random secret.
    pub fn hash_secret(&self, secret: &str) -> String {
        let key = self.current();
        let digest = Self::mac_with(key, secret).finalize().into_bytes();
        format!("hmac-sha256:{}:{}", key.kid, digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }

    /// Whether `secret` hashes to `stored` (in constant time); `None` when `stored` is not a
    /// keyed hash this ring can check.
    pub fn verify_secret(&self, secret: &str, stored: &str) -> Option<bool> {
        self.checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let rest = stored.strip_prefix("hmac-sha256:")?;
        let (kid, hex) = rest.split_once(':')?;
        let key = self.by_kid(kid)?;
        let expected: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
            .collect::<Result<_, _>>()
            .ok()?;
        Some(Self::mac_with(key, secret).verify_slice(&expected).is_ok())
    }

    /// How many keyed-hash checks this ring (and its clones) has made.
    pub fn checks_made(&self) -> u64 {
        self.checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A keyed hash under the current key that no secret has: checking against it costs what a
    /// real check costs.
    pub fn decoy_hash(&self) -> String {
        format!("hmac-sha256:{}:{}", self.current().kid, "0".repeat(64))
    }

    /// Whether a keyed hash was made with the current key.
    pub fn is_current_hash(&self, stored: &str) -> bool {
        stored
            .strip_prefix("hmac-sha256:")
            .and_then(|r| r.split_once(':'))
            .is_some_and(|(kid, _)| kid == self.current().kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_under_any_listed_key_and_not_otherwise() {
        let old = Keyring::parse(&Keyring::generate_entry("k1")).unwrap();
        let sealed = old.seal("whsec_abc");
        assert!(sealed.starts_with("sealed:v1:k1:") && !sealed.contains("whsec_abc"));
        assert_eq!(old.open(&sealed).as_deref(), Some("whsec_abc"));
        let other = Keyring::parse(&Keyring::generate_entry("k1")).unwrap();
        assert_eq!(other.open(&sealed), None, "another key of the same id does not open it");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert_eq!(old.open(&tampered), None);
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_writes_with_the_new_key() {
        let k1 = Keyring::generate_entry("k1");
        let k2 = Keyring::generate_entry("k2");
        let before = Keyring::parse(&k1).unwrap();
        let after = Keyring::parse(&format!("{k2}, {k1}")).unwrap();
        let sealed = before.seal("s");
        let hashed = before.hash_secret("dvk_secret");
        assert_eq!(after.open(&sealed).as_deref(), Some("s"));
        assert!(!after.is_current_seal(&sealed) && after.is_current_seal(&after.seal("s")));
        assert_eq!(after.verify_secret("dvk_secret", &hashed), Some(true));
        assert_eq!(after.verify_secret("dvk_other", &hashed), Some(false));
        assert!(!after.is_current_hash(&hashed) && after.is_current_hash(&after.hash_secret("x")));
        assert_eq!(after.verify_secret("x", "$argon2id$v=19$..."), None);
    }

    #[test]
    fn bad_key_lists_are_refused() {
        for bad in ["", "k1", "k1:short", "k 1:AAAA", &format!("{0},{0}", Keyring::generate_entry("k1"))] {
            assert!(Keyring::parse(bad).is_err(), "{bad}");
        }
    }
}

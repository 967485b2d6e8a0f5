//! Client secrets: 32 random bytes, kept as a keyed hash (HMAC-SHA-256 under the server's data
//! key, see `keyring`), checked in constant work whether the client exists or not.
//!
//! Why not a password hash: Argon2id exists to slow the guessing of low-entropy passwords, and a
//! 256-bit random secret cannot be guessed however fast each guess is. Its 19 MiB and tens of
//! milliseconds per check were instead a lever for anyone flooding the token endpoint (issue
//! 14). Secrets hashed with Argon2id before this change still verify, one at a time, and are
//! re-hashed with the key on their first successful use.

use std::sync::{Mutex, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use crate::keyring::Keyring;

/// Secrets checked per token request, existing or not: the work is the same for an unknown
/// client, a wrong secret and a right one.
pub const CHECKS: usize = 2;

/// A new secret: `dvk_` and 43 URL-safe characters (256 bits).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("dvk_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The last four characters, so a person can tell secrets apart in a list.
pub fn hint(secret: &str) -> String {
    secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect()
}

pub fn hash(keyring: &Keyring, secret: &str) -> String {
    keyring.hash_secret(secret)
}

/// Whether a stored hash should be replaced by one under the current key.
pub fn needs_rehash(keyring: &Keyring, stored: &str) -> bool {
    !keyring.is_current_hash(stored)
}

/// Argon2id checks of secrets stored before keyed hashes run one at a time in the process, so
/// that no flood can hold more than one 19 MiB block.
fn legacy_matches(secret: &str, stored: &str) -> bool {
    static ONE_AT_A_TIME: OnceLock<Mutex<()>> = OnceLock::new();
    let _turn = ONE_AT_A_TIME.get_or_init(|| Mutex::new(())).lock().unwrap_or_else(|e| e.into_inner());
    let argon2 =
        Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid parameters"));
    PasswordHash::new(stored).is_ok_and(|h| argon2.verify_password(secret.as_bytes(), &h).is_ok())
}

/// The index of the hash among `hashes` (at most `CHECKS` are looked at) that `secret` matches,
/// always doing `CHECKS` keyed-hash verifications.
pub fn matching(keyring: &Keyring, secret: &str, hashes: &[String]) -> Option<usize> {
    let mut found = None;
    for i in 0..CHECKS {
        let stored = hashes.get(i).map(String::as_str);
        let ok = match stored.map(|s| keyring.verify_secret(secret, s)) {
            Some(Some(ok)) => ok,
            Some(None) => legacy_matches(secret, stored.unwrap_or_default()),
            // A decoy under the current key stands in for a missing hash: same work, no match.
            None => {
                let _ = keyring.verify_secret(secret, &keyring.decoy_hash());
                false
            }
        };
        if ok && found.is_none() {
            found = Some(i);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    fn ring() -> Keyring {
        Keyring::parse(&Keyring::generate_entry("t")).unwrap()
    }

    #[test]
    fn a_secret_matches_its_hash_only() {
        let keys = ring();
        let (a, b) = (generate(), generate());
        assert!(a.starts_with("dvk_") && a.len() == 47);
        let h = hash(&keys, &a);
        assert!(!h.contains(&a));
        assert_eq!(matching(&keys, &a, std::slice::from_ref(&h)), Some(0));
        assert_eq!(matching(&keys, &b, std::slice::from_ref(&h)), None);
        assert_eq!(matching(&keys, &a, &[hash(&keys, &b), h]), Some(1));
        assert_eq!(matching(&keys, &a, &[]), None);
        assert_eq!(hint("dvk_abcdef"), "cdef");
        let other = ring();
        assert_eq!(matching(&other, &a, &[hash(&keys, &a)]), None, "another key's hash does not verify");
    }

    #[test]
    fn secrets_hashed_with_argon2id_before_still_verify_and_ask_to_be_rehashed() {
        let keys = ring();
        let secret = generate();
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).unwrap());
        let old = argon2.hash_password(secret.as_bytes(), &salt).unwrap().to_string();
        assert_eq!(matching(&keys, &secret, std::slice::from_ref(&old)), Some(0));
        assert_eq!(matching(&keys, &generate(), std::slice::from_ref(&old)), None);
        assert!(needs_rehash(&keys, &old));
        assert!(!needs_rehash(&keys, &hash(&keys, &secret)));
    }
}

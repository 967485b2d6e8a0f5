//! Client secrets: made from 32 random bytes, kept only as Argon2id hashes, checked in constant
//! work whether the client exists or not.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// Secrets checked per token request, existing or not: the work (and so the time) is the same
/// for an unknown client, a wrong secret and a right one.
pub const CHECKS: usize = 2;

/// OWASP's Argon2id minimum: 19 MiB, two passes, one lane.
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid parameters"))
}

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

pub fn hash(secret: &str) -> String {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a salt");
    argon2().hash_password(secret.as_bytes(), &salt).expect("hashing cannot fail").to_string()
}

fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash(&generate()))
}

/// Whether `secret` matches one of `hashes` (at most `CHECKS` are looked at), always doing
/// `CHECKS` verifications.
pub fn matches(secret: &str, hashes: &[String]) -> bool {
    let mut found = false;
    for i in 0..CHECKS {
        let stored: &str = match hashes.get(i) {
            Some(h) => h,
            None => decoy(),
        };
        let ok = PasswordHash::new(stored).is_ok_and(|h| argon2().verify_password(secret.as_bytes(), &h).is_ok());
        found |= ok && i < hashes.len();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_its_hash_only() {
        let (a, b) = (generate(), generate());
        assert!(a.starts_with("dvk_") && a.len() == 47);
        let h = hash(&a);
        assert!(matches(&a, std::slice::from_ref(&h)));
        assert!(!matches(&b, std::slice::from_ref(&h)));
        assert!(matches(&a, &[hash(&b), h]));
        assert!(!matches(&a, &[]));
        assert_eq!(hint("dvk_abcdef"), "cdef");
    }
}

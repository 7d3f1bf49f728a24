//! Ids, tokens and keys: random generation, SHA-256 hashing for storage, constant-time
//! comparison, and the clock.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of a public project token.
pub const PROJECT_TOKEN_PREFIX: &str = "vv_proj_";
/// The prefix of a secret API key.
pub const API_KEY_PREFIX: &str = "vv_sk_";

/// How many characters of a token are kept in clear for display ("vv_sk_3f9a…").
const DISPLAY_CHARS: usize = 4;

/// `n` random bytes from the operating system.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source failing means the machine is unusable for anything secret.
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    bytes
}

/// A fresh row id: 16 random bytes as 32 hex characters, the same on every database.
pub fn new_id() -> String {
    hex::encode(random_bytes::<16>())
}

/// A fresh public project token, `vv_proj_` and 32 random bytes in hex.
pub fn new_project_token() -> String {
    format!("{PROJECT_TOKEN_PREFIX}{}", hex::encode(random_bytes::<32>()))
}

/// A fresh secret API key, `vv_sk_` and 32 random bytes in hex.
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", hex::encode(random_bytes::<32>()))
}

/// The stored form of a token or key: its SHA-256 in hex. The tokens carry 256 random bits, so
/// a fast hash is enough; a slow password hash would only slow the ingestion path.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The part of a token shown in listings: its kind prefix and a few characters.
pub fn display_prefix(secret: &str) -> String {
    let kind =
        if secret.starts_with(API_KEY_PREFIX) { API_KEY_PREFIX } else { PROJECT_TOKEN_PREFIX };
    let rest = secret.get(kind.len()..kind.len() + DISPLAY_CHARS).unwrap_or_default();
    format!("{kind}{rest}")
}

/// Compares two secrets (or their hashes) without leaking through timing where they differ.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Milliseconds since the Unix epoch, the unit of every time column.
pub fn now_ms() -> i64 {
    let elapsed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_kind_and_hash_to_64_hex_characters() {
        let token = new_project_token();
        assert!(token.starts_with(PROJECT_TOKEN_PREFIX));
        assert_eq!(hash_secret(&token).len(), 64);
        assert_ne!(token, new_project_token());
        assert_eq!(display_prefix(&token).len(), PROJECT_TOKEN_PREFIX.len() + DISPLAY_CHARS);
        assert!(display_prefix(&new_api_key()).starts_with(API_KEY_PREFIX));
    }

    #[test]
    fn secrets_equal_needs_identical_bytes() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}

//! Secrets everyone knows: the defaults this repository's compose file used to ship and the
//! placeholders of tutorials and templates. Anyone can sign with one of them, whatever its
//! length, so a secret that is one of them, or contains a placeholder word, or is made of a
//! handful of characters repeated, is refused where it is read ([`crate::Secret`]).
//!
//! This is the one list: `scripts/lib/check_compose.py` reads [`KNOWN_SECRETS`] and
//! [`PLACEHOLDER_WORDS`] from this file to check that compose.yaml ships none of them.
//! The tests' secrets (`crate::testing`) are public too but not listed: the test harness
//! configures them; they must never reach a deployment.

/// Whole secrets that are published: compared without regard to case or surrounding whitespace.
pub const KNOWN_SECRETS: &[&str] = &[
    // compose.yaml's development defaults up to this version.
    "ticketview-development-secret-not-for-production",
    "ticketview-development-admission-key-not-for-production",
    // Placeholders of JWT tutorials, framework templates and .env examples.
    "secret",
    "changeme",
    "password",
    "your-256-bit-secret",
    "your-secret-key",
    "your_secret_key",
    "your-jwt-secret",
    "jwt-secret",
    "jwt_secret",
    "jwtsecret",
    "supersecret",
    "mysecret",
    "secretkey",
    "secret-key",
    "shhhhh",
    "development",
    "default",
    "test",
];

/// Words that mark a placeholder wherever they appear in a secret (`my-changeme-key-…`).
pub const PLACEHOLDER_WORDS: &[&str] = &[
    "not-for-production",
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "replace_me",
    "placeholder",
    "your-256-bit-secret",
];

/// Fewer different bytes than this is a pattern, not randomness (`aaaa…`, `0101…`): 32 random
/// bytes written as hex or base64 have at least this many with overwhelming probability.
const MIN_DISTINCT_BYTES: usize = 8;

/// Whether `secret` is a known default, a placeholder or a repeated pattern.
pub(crate) fn is_known(secret: &[u8]) -> bool {
    let secret = secret.trim_ascii().to_ascii_lowercase();
    let distinct = secret
        .iter()
        .fold([false; 256], |mut seen, b| {
            seen[usize::from(*b)] = true;
            seen
        })
        .iter()
        .filter(|seen| **seen)
        .count();
    distinct < MIN_DISTINCT_BYTES
        || KNOWN_SECRETS.iter().any(|k| k.as_bytes() == secret)
        || PLACEHOLDER_WORDS
            .iter()
            .any(|word| secret.windows(word.len()).any(|w| w == word.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_s_old_defaults_and_placeholders_are_known_whatever_their_case() {
        assert!(is_known(
            b"ticketview-development-secret-not-for-production"
        ));
        assert!(is_known(
            b"TicketView-Development-Admission-Key-Not-For-Production\n"
        ));
        assert!(is_known(b"secret"));
        assert!(is_known(b"our-changeme-key-for-the-staging-cluster-2026"));
        assert!(is_known(
            b"please-REPLACE-ME-with-32-random-bytes-of-your-own"
        ));
    }

    #[test]
    fn a_repeated_pattern_is_known() {
        assert!(is_known(&[b'a'; 64]));
        assert!(is_known(b"0101010101010101010101010101010101010101"));
        assert!(is_known(b"abcdabcdabcdabcdabcdabcdabcdabcdabcd"));
    }

    #[test]
    fn random_looking_secrets_are_not_known() {
        assert!(!is_known(b"q3J9vZ1xL0pTe8mYw2RcN6uHs4AaKdFg7BiOjVtEyX"));
        assert!(!is_known(
            b"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        ));
        assert!(!is_known(crate::testing::SECRET.as_bytes()));
        assert!(!is_known(crate::testing::ADMISSION_SECRET.as_bytes()));
    }
}

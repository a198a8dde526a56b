//! Customer ids never go into logs or span attributes as they are (they may be e-mail addresses):
//! [`pseudonym`] gives a stable stand-in, the same for the same id in every service and run, so a
//! log can still be followed per customer, and an operator who knows an id can compute its
//! pseudonym to search for it.

use uuid::Uuid;

/// The namespace of pseudonyms (fixed: changing it changes every pseudonym).
const PSEUDONYMS: Uuid = Uuid::from_u128(0x2f0d_8a61_5c3e_4b7a_9e12_7c44_d1a0_63b5);

/// 16 hex digits of a name-based UUID (SHA-1) of `id`.
pub fn pseudonym(id: &str) -> String {
    let mut text = Uuid::new_v5(&PSEUDONYMS, id.as_bytes())
        .simple()
        .to_string();
    text.truncate(16);
    text
}

#[cfg(test)]
mod tests {
    use super::pseudonym;

    #[test]
    fn a_pseudonym_is_stable_distinct_and_hides_the_id() {
        let ann = pseudonym("ann@example.com");
        assert_eq!(ann, pseudonym("ann@example.com"));
        assert_ne!(ann, pseudonym("bob@example.com"));
        assert_eq!(ann.len(), 16);
        assert!(!ann.contains("ann"));
    }
}

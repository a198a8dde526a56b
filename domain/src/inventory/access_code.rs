//! Access codes of presales, and the keyed hash that is all the inventory ever sees of them.
//!
//! A code is parsed at the edge ([`AccessCode`]) and hashed there at once with its event's
//! [`AccessCodeKey`]: HMAC-SHA256 under a key derived from the server's ticket secret and the
//! event id. The stream is a public feed and carries only hashes; without the key, a hash does not
//! give its code back, however few characters the code has (an unkeyed hash of a six-letter code
//! would be found by trying them all). The same code of another event hashes differently.
//!
//! Codes are compared without regard to case or surrounding blanks, as box offices read them out:
//! `fan-2030` and ` FAN-2030 ` are one code.

use crate::ids::EventId;
use hmac::{Hmac, Mac};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// What the event's key is derived with, so that the server secret keys nothing else this way.
const ACCESS_CODE_KEY_LABEL: &[u8] = b"ticketview access code key v1\0";

/// The fewest and most characters of a code.
pub const MIN_ACCESS_CODE_CHARS: usize = 4;
pub const MAX_ACCESS_CODE_CHARS: usize = 64;

/// A plain access code, as a customer typed it. `Debug` shows nothing of it, and it cannot be
/// serialized: it never reaches a log, a span or the stream.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessCode(String);

/// Why a text is not an access code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an access code has {MIN_ACCESS_CODE_CHARS} to {MAX_ACCESS_CODE_CHARS} visible ASCII characters")]
pub struct InvalidAccessCode;

impl AccessCode {
    /// Trimmed and upper-cased; 4 to 64 visible ASCII characters.
    pub fn parse(text: &str) -> Result<Self, InvalidAccessCode> {
        let code = text.trim();
        let fits = (MIN_ACCESS_CODE_CHARS..=MAX_ACCESS_CODE_CHARS).contains(&code.len());
        if !fits || !code.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InvalidAccessCode);
        }
        Ok(Self(code.to_ascii_uppercase()))
    }
}

impl fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(<redacted>)")
    }
}

/// One event's key for access codes. `Debug` shows nothing of it.
#[derive(Clone)]
pub struct AccessCodeKey([u8; 32]);

impl AccessCodeKey {
    /// The key of `event_id`'s codes: HMAC-SHA256 of a label and the event id under the server's
    /// secret.
    pub fn derive(server_secret: &[u8], event_id: EventId) -> Self {
        let mut mac =
            HmacSha256::new_from_slice(server_secret).expect("HMAC takes keys of any length");
        mac.update(ACCESS_CODE_KEY_LABEL);
        mac.update(event_id.as_uuid().as_bytes());
        Self(mac.finalize().into_bytes().into())
    }

    /// The hash the inventory stores and compares for `code`.
    pub fn hash(&self, code: &AccessCode) -> AccessCodeHash {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(code.0.as_bytes());
        AccessCodeHash(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for AccessCodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCodeKey(<redacted>)")
    }
}

/// The keyed hash of an access code: 32 bytes, written as 64 lowercase hexadecimal digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccessCodeHash([u8; 32]);

impl AccessCodeHash {
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Debug for AccessCodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessCodeHash({})", &self.to_hex()[..12])
    }
}

impl Serialize for AccessCodeHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for AccessCodeHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text)
            .ok_or_else(|| de::Error::custom("an access code hash is 64 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn event(n: u128) -> EventId {
        EventId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn a_code_is_one_code_whatever_its_case_and_blanks() {
        let key = AccessCodeKey::derive(b"server-secret-for-these-tests-0123456789", event(1));
        let typed = key.hash(&AccessCode::parse(" fan-2030 ").unwrap());
        assert_eq!(typed, key.hash(&AccessCode::parse("FAN-2030").unwrap()));
        assert_ne!(typed, key.hash(&AccessCode::parse("FAN-2031").unwrap()));
    }

    #[test]
    fn the_same_code_hashes_differently_per_event_and_per_secret() {
        let code = AccessCode::parse("FAN-2030").unwrap();
        let secret = b"server-secret-for-these-tests-0123456789";
        let first = AccessCodeKey::derive(secret, event(1)).hash(&code);
        assert_ne!(first, AccessCodeKey::derive(secret, event(2)).hash(&code));
        let other = AccessCodeKey::derive(b"another-server-secret-0123456789abcdef", event(1));
        assert_ne!(first, other.hash(&code));
    }

    #[test]
    fn codes_too_short_too_long_or_invisible_are_refused() {
        for bad in [
            "",
            "abc",
            "   abc  ",
            &"x".repeat(65),
            "fan 2030",
            "fän-2030",
        ] {
            assert_eq!(AccessCode::parse(bad), Err(InvalidAccessCode), "{bad:?}");
        }
    }

    #[test]
    fn a_hash_reads_back_from_its_hex_and_nothing_shows_the_code() {
        let code = AccessCode::parse("secret-code").unwrap();
        let hash = AccessCodeKey::derive(b"k", event(1)).hash(&code);
        let text = serde_json::to_string(&hash).unwrap();
        assert_eq!(serde_json::from_str::<AccessCodeHash>(&text).unwrap(), hash);
        assert!(!format!("{code:?}{hash:?}")
            .to_uppercase()
            .contains("SECRET-CODE"));
        assert!(serde_json::from_str::<AccessCodeHash>("\"abc\"").is_err());
    }
}

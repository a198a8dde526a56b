//! The shared signing secret: bytes that never show in logs, `Debug` output or error messages.

use crate::error::ConfigError;
use std::fmt;
use std::sync::Arc;

/// The fewest bytes a secret may have: HS256 wants a key at least as long as its 256-bit hash
/// (RFC 7518, section 3.2); a shorter one is guessable.
pub const MIN_SECRET_BYTES: usize = 32;

/// An HS256 signing secret. `Debug` and `Display` say only how long it is.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    /// A secret of at least [`MIN_SECRET_BYTES`] bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::SecretTooShort {
                length: bytes.len(),
            });
        }
        Ok(Self(bytes.into()))
    }

    /// The secret in a file: its contents without surrounding whitespace (a trailing newline
    /// from `echo` or an editor is not part of it).
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let contents = std::fs::read(path).map_err(|source| ConfigError::SecretFile {
            path: path.to_owned(),
            source,
        })?;
        Self::new(contents.trim_ascii().to_vec())
    }

    /// Any text, unchecked: for the command line, whose parse errors echo the value. The length
    /// is checked when the configuration hands the secret out ([`Secret::checked`]).
    pub(crate) fn unchecked(text: &str) -> Result<Self, std::convert::Infallible> {
        Ok(Self(text.trim().as_bytes().into()))
    }

    /// This secret if it is long enough.
    pub(crate) fn checked(&self) -> Result<Self, ConfigError> {
        Self::new(self.0.to_vec())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::str::FromStr for Secret {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        Self::new(text.trim().as_bytes().to_vec())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes, redacted>)", self.0.len())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "correct-horse-battery-staple-0123456789";

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let secret: Secret = TEXT.parse().unwrap();
        assert!(!format!("{secret:?}").contains(TEXT));
        assert!(!format!("{secret:#?}").contains(TEXT));
        assert!(!format!("{secret}").contains(TEXT));
        assert_eq!(format!("{secret:?}"), "Secret(<39 bytes, redacted>)");
    }

    #[test]
    fn a_short_secret_is_refused_without_echoing_it() {
        let error = "short-secret".parse::<Secret>().unwrap_err();
        assert!(matches!(error, ConfigError::SecretTooShort { length: 12 }));
        assert!(!error.to_string().contains("short-secret"));
    }

    #[test]
    fn a_secret_file_is_read_without_its_trailing_newline() {
        let path = std::env::temp_dir().join(format!("tv-secret-{}", std::process::id()));
        std::fs::write(&path, format!("{TEXT}\n")).unwrap();
        let secret = Secret::from_file(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(secret.bytes(), TEXT.as_bytes());
    }
}

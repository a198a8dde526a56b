//! The shared signing secret: bytes that never show in logs, `Debug` output or error messages,
//! and that are refused when short or published ([`crate::known_secrets`]).

use crate::error::ConfigError;
use crate::known_secrets;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The fewest bytes a secret may have: HS256 wants a key at least as long as its 256-bit hash
/// (RFC 7518, section 3.2); a shorter one is guessable.
pub const MIN_SECRET_BYTES: usize = 32;

/// The two variables a secret is configured by: the secret itself, or a file holding it. Errors
/// name the one that was used, and the file variable as the fix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SecretVariables {
    pub value: &'static str,
    pub file: &'static str,
}

/// The bearer tokens' HS256 secret.
pub(crate) const BEARER: SecretVariables = SecretVariables {
    value: "TV_JWT_SECRET",
    file: "TV_JWT_SECRET_FILE",
};

/// The admission tokens' secret.
pub(crate) const ADMISSION: SecretVariables = SecretVariables {
    value: "TV_ADMISSION_SECRET",
    file: "TV_ADMISSION_SECRET_FILE",
};

/// The key ticket codes are signed with.
pub(crate) const TICKETS: SecretVariables = SecretVariables {
    value: "TV_TICKET_SECRET",
    file: "TV_TICKET_SECRET_FILE",
};

/// An HS256 signing secret. `Debug` and `Display` say only how long it is.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    /// A secret of at least [`MIN_SECRET_BYTES`] bytes that is no published default.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        Self::read(bytes.into(), BEARER.value, BEARER)
    }

    /// `bytes` as the secret of `variable` (one of `variables`), if it is usable.
    fn read(
        bytes: Vec<u8>,
        variable: &'static str,
        variables: SecretVariables,
    ) -> Result<Self, ConfigError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::SecretTooShort {
                variable,
                file_variable: variables.file,
                length: bytes.len(),
            });
        }
        if known_secrets::is_known(&bytes) {
            return Err(ConfigError::KnownSecret {
                variable,
                file_variable: variables.file,
            });
        }
        Ok(Self(bytes.into()))
    }

    /// The secret in a file: its contents without surrounding whitespace (a trailing newline
    /// from `echo` or an editor is not part of it).
    pub(crate) fn from_file(path: &Path, variables: SecretVariables) -> Result<Self, ConfigError> {
        let contents = std::fs::read(path).map_err(|source| ConfigError::File {
            variable: variables.file,
            path: path.to_owned(),
            source,
        })?;
        Self::read(contents.trim_ascii().to_vec(), variables.file, variables)
    }

    /// The configured secret: `value` or the contents of `file`, `None` when neither is set, an
    /// error when both are or when the secret is not usable.
    pub(crate) fn configured(
        value: Option<&Secret>,
        file: Option<&Path>,
        variables: SecretVariables,
    ) -> Result<Option<Self>, ConfigError> {
        match (value, file) {
            (Some(_), Some(_)) => Err(ConfigError::BothSet {
                value: variables.value,
                file: variables.file,
            }),
            (Some(secret), None) => {
                Self::read(secret.0.to_vec(), variables.value, variables).map(Some)
            }
            (None, Some(path)) => Self::from_file(path, variables).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// Any text, unchecked: for the command line, whose parse errors echo the value. The length
    /// and the list of published secrets are checked when the configuration hands the secret
    /// out ([`Secret::configured`]).
    pub(crate) fn unchecked(text: &str) -> Result<Self, std::convert::Infallible> {
        Ok(Self(text.trim().as_bytes().into()))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret's bytes, for a key built outside this crate (the ticket key). Keep them out of
    /// logs and answers.
    pub fn expose(&self) -> &[u8] {
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
        assert!(matches!(
            error,
            ConfigError::SecretTooShort { length: 12, .. }
        ));
        assert!(!error.to_string().contains("short-secret"));
    }

    #[test]
    fn a_published_secret_is_refused_naming_the_variable_it_came_from() {
        let old_default = "ticketview-development-admission-key-not-for-production";
        let configured = Secret::unchecked(old_default).unwrap();
        let error = Secret::configured(Some(&configured), None, ADMISSION).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, ConfigError::KnownSecret { .. }),
            "{message}"
        );
        assert!(
            message.starts_with("TV_ADMISSION_SECRET holds a published default"),
            "{message}"
        );
        assert!(
            message.contains("TV_ADMISSION_SECRET_FILE=FILE"),
            "{message}"
        );
        assert!(!message.contains(old_default), "{message}");
    }

    #[test]
    fn a_published_secret_in_a_file_is_refused_naming_the_file_variable() {
        let path = std::env::temp_dir().join(format!("tv-known-secret-{}", std::process::id()));
        std::fs::write(&path, "ticketview-development-secret-not-for-production\n").unwrap();
        let error = Secret::configured(None, Some(&path), BEARER).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(
            error
                .to_string()
                .starts_with("TV_JWT_SECRET_FILE holds a published default"),
            "{error}"
        );
    }

    #[test]
    fn a_secret_file_is_read_without_its_trailing_newline() {
        let path = std::env::temp_dir().join(format!("tv-secret-{}", std::process::id()));
        std::fs::write(&path, format!("{TEXT}\n")).unwrap();
        let secret = Secret::from_file(&path, BEARER).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(secret.bytes(), TEXT.as_bytes());
    }
}

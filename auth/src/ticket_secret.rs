//! The ticket key's configuration: the secret command-svc signs ticket codes with
//! (`TV_TICKET_SECRET_FILE`, or `TV_TICKET_SECRET`), required by command-svc, never the bearer
//! tokens' or the admission tokens' secret. What it signs is the domain's (`TicketKey`).

use crate::config::AuthConfig;
use crate::error::ConfigError;
use crate::secret::{self, Secret};
use std::path::PathBuf;

/// Where the ticket key comes from, flattened into a binary's clap configuration.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TicketSecretConfig {
    /// The ticket codes' signing key itself (prefer --ticket-secret-file). Hidden.
    #[arg(
        id = "ticket_secret",
        long = "ticket-secret",
        env = "TV_TICKET_SECRET",
        hide = true,
        hide_env_values = true,
        value_parser = Secret::unchecked
    )]
    pub secret: Option<Secret>,
    /// A file holding the key ticket codes are signed with (at least 32 random bytes, not a
    /// published default, no other secret). Changing it changes the codes of orders confirmed
    /// afterwards; codes already issued stay valid.
    #[arg(
        id = "ticket_secret_file",
        long = "ticket-secret-file",
        env = "TV_TICKET_SECRET_FILE",
        value_name = "PATH"
    )]
    pub secret_file: Option<PathBuf>,
}

impl TicketSecretConfig {
    pub fn with_secret(secret: Secret) -> Self {
        Self {
            secret: Some(secret),
            secret_file: None,
        }
    }

    /// The configured key; refused when missing, short, published, or another configured secret
    /// (`bearer`'s or `admission`'s): one leaked key must not let anyone mint two things.
    pub fn secret(
        &self,
        bearer: &AuthConfig,
        admission: &crate::AdmissionConfig,
    ) -> Result<Secret, ConfigError> {
        let value = self.secret.as_ref().filter(|s| !s.bytes().is_empty());
        let file = self
            .secret_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty());
        let secret =
            Secret::configured(value, file, secret::TICKETS)?.ok_or(ConfigError::NoTicketSecret)?;
        let admission_value = admission.secret.as_ref().filter(|s| !s.bytes().is_empty());
        let admission_file = admission
            .secret_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty());
        let admission = Secret::configured(admission_value, admission_file, secret::ADMISSION)
            .ok()
            .flatten();
        if bearer.shared_secret()?.as_ref() == Some(&secret) || admission.as_ref() == Some(&secret)
        {
            return Err(ConfigError::SharedTicketSecret);
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_key_is_required_and_of_its_own() {
        let bearer = crate::testing::config();
        let admission = crate::testing::admission_config();
        let missing = TicketSecretConfig::default().secret(&bearer, &admission);
        assert!(matches!(missing, Err(ConfigError::NoTicketSecret)));
        let shared = TicketSecretConfig::with_secret(crate::testing::secret());
        assert!(matches!(
            shared.secret(&bearer, &admission),
            Err(ConfigError::SharedTicketSecret)
        ));
        let same_as_admission =
            TicketSecretConfig::with_secret(crate::testing::ADMISSION_SECRET.parse().unwrap());
        assert!(matches!(
            same_as_admission.secret(&bearer, &admission),
            Err(ConfigError::SharedTicketSecret)
        ));
        let own = crate::testing::ticket_secret_config().secret(&bearer, &admission);
        assert_eq!(
            own.unwrap().expose(),
            crate::testing::TICKET_SECRET.as_bytes()
        );
    }

    #[test]
    fn a_short_or_published_ticket_key_is_refused() {
        let bearer = crate::testing::config();
        let admission = crate::AdmissionConfig::default();
        for text in ["short", "ticketview-development-secret-not-for-production"] {
            let config = TicketSecretConfig {
                secret: Some(Secret::unchecked(text).unwrap()),
                secret_file: None,
            };
            assert!(config.secret(&bearer, &admission).is_err(), "{text}");
        }
    }
}

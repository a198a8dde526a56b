//! Where the keys come from.
//!
//! - Services verify with the issuers' public keys, `TV_JWT_PUBLIC_KEYS_FILE` (a JWKS, RFC 7517:
//!   the keys of a rotation, each under its `kid`), and never need a private key.
//! - Issuers (tv-token, loadgen) sign with an Ed25519 private key, `TV_JWT_PRIVATE_KEY_FILE`
//!   (PKCS#8 PEM).
//! - Or everyone shares one HS256 secret, `TV_JWT_SECRET_FILE`, as before keys. A service given
//!   both a secret and public keys accepts both kinds of token: the way from a secret to keys.
//!
//! Each `_FILE` variable has a twin holding the value itself (`TV_JWT_SECRET`,
//! `TV_JWT_PRIVATE_KEY`, `TV_JWT_PUBLIC_KEYS`), for a container given its settings as
//! variables; a file keeps a secret out of the process environment and of shell history. An
//! empty variable counts as unset. There is no default key: a service without one refuses to
//! start, and so does one given a published or short secret.

use crate::error::ConfigError;
use crate::issuer::Issuer;
use crate::public_keys::{self, PublicKeys};
use crate::secret::{self, Secret};
use crate::signing_key::{self, SigningKey};
use crate::verifier::Verifier;
use std::path::{Path, PathBuf};

/// The token settings of a binary, flattened into its clap configuration.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthConfig {
    /// The HS256 secret itself (prefer --jwt-secret-file). Hidden from --help, never printed.
    #[arg(
        long = "jwt-secret",
        env = "TV_JWT_SECRET",
        hide = true,
        hide_env_values = true,
        value_parser = Secret::unchecked
    )]
    pub secret: Option<Secret>,
    /// A file holding the HS256 secret shared by the services and the token issuers (at least
    /// 32 random bytes; surrounding whitespace is ignored). Prefer keys: the public keys file
    /// for services, the private key file for issuers.
    #[arg(
        long = "jwt-secret-file",
        env = "TV_JWT_SECRET_FILE",
        value_name = "PATH"
    )]
    pub secret_file: Option<PathBuf>,
    /// The issuers' public keys, a JWKS file (`{"keys": [...]}`, Ed25519 keys each with its
    /// `kid`): tokens signed with the matching private keys are accepted. `tv-keys` writes and
    /// edits it.
    #[arg(
        long = "jwt-public-keys-file",
        env = "TV_JWT_PUBLIC_KEYS_FILE",
        value_name = "PATH"
    )]
    pub public_keys_file: Option<PathBuf>,
    /// The public keys as JWKS text (prefer --jwt-public-keys-file). Hidden from --help.
    #[arg(
        long = "jwt-public-keys",
        env = "TV_JWT_PUBLIC_KEYS",
        hide = true,
        hide_env_values = true
    )]
    pub public_keys: Option<String>,
    /// For token issuers only (tv-token, loadgen): an Ed25519 private key file (PKCS#8 PEM, as
    /// `tv-keys generate` writes it) to sign tokens with; a service needs only the public keys.
    #[arg(
        long = "jwt-private-key-file",
        env = "TV_JWT_PRIVATE_KEY_FILE",
        value_name = "PATH"
    )]
    pub private_key_file: Option<PathBuf>,
    /// The private key's PEM text itself (prefer --jwt-private-key-file). Hidden, never printed.
    #[arg(
        long = "jwt-private-key",
        env = "TV_JWT_PRIVATE_KEY",
        hide = true,
        hide_env_values = true,
        value_parser = Secret::unchecked
    )]
    pub private_key: Option<Secret>,
    /// When set, tokens must carry this issuer (`iss`), and minted tokens carry it.
    #[arg(long = "jwt-issuer", env = "TV_JWT_ISSUER")]
    pub issuer: Option<String>,
    /// The audience (`aud`) tokens must carry, and minted tokens carry (default `ticketview`).
    #[arg(long = "jwt-audience", env = "TV_JWT_AUDIENCE")]
    pub audience: Option<String>,
}

/// A configured path, unless it is empty (an empty variable counts as unset).
fn set_path(path: &Option<PathBuf>) -> Option<&Path> {
    path.as_deref().filter(|p| !p.as_os_str().is_empty())
}

/// A configured secret, unless it is empty.
fn set_secret(secret: &Option<Secret>) -> Option<&Secret> {
    secret.as_ref().filter(|s| !s.bytes().is_empty())
}

impl AuthConfig {
    /// Settings with this secret and no issuer check.
    pub fn with_secret(secret: Secret) -> Self {
        Self {
            secret: Some(secret),
            ..Self::default()
        }
    }

    /// The settings in the environment alone (the variables above), for a binary whose flags
    /// do not carry them.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let secret =
            |name: &str| var(name).map(|v| Secret::unchecked(&v).unwrap_or_else(|e| match e {}));
        Ok(Self {
            secret: secret("TV_JWT_SECRET"),
            secret_file: var("TV_JWT_SECRET_FILE").map(PathBuf::from),
            public_keys_file: var("TV_JWT_PUBLIC_KEYS_FILE").map(PathBuf::from),
            public_keys: var("TV_JWT_PUBLIC_KEYS"),
            private_key_file: var("TV_JWT_PRIVATE_KEY_FILE").map(PathBuf::from),
            private_key: secret("TV_JWT_PRIVATE_KEY"),
            issuer: var("TV_JWT_ISSUER"),
            audience: var("TV_JWT_AUDIENCE"),
        })
    }

    /// The shared HS256 secret, if one is configured (and usable: long, not published).
    pub fn shared_secret(&self) -> Result<Option<Secret>, ConfigError> {
        Secret::configured(
            set_secret(&self.secret),
            set_path(&self.secret_file),
            secret::BEARER,
        )
    }

    /// The public keys, if configured.
    pub fn public_keys(&self) -> Result<Option<PublicKeys>, ConfigError> {
        let json = self.public_keys.as_deref().filter(|json| !json.is_empty());
        match (json, set_path(&self.public_keys_file)) {
            (Some(_), Some(_)) => Err(ConfigError::BothSet {
                value: "TV_JWT_PUBLIC_KEYS",
                file: public_keys::FILE_VARIABLE,
            }),
            (Some(json), None) => PublicKeys::from_json(json, "TV_JWT_PUBLIC_KEYS").map(Some),
            (None, Some(path)) => PublicKeys::from_file(path).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// The private key, if configured.
    pub fn signing_key(&self) -> Result<Option<SigningKey>, ConfigError> {
        match (
            set_secret(&self.private_key),
            set_path(&self.private_key_file),
        ) {
            (Some(_), Some(_)) => Err(ConfigError::BothSet {
                value: "TV_JWT_PRIVATE_KEY",
                file: signing_key::FILE_VARIABLE,
            }),
            (Some(pem), None) => {
                let pem = String::from_utf8_lossy(pem.bytes());
                SigningKey::from_pem(&pem, "TV_JWT_PRIVATE_KEY").map(Some)
            }
            (None, Some(path)) => SigningKey::from_file(path).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// The verifier of the configured public keys and secret (a private key is not looked at);
    /// an error that names the variables to set when there is neither.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        let secret = self.shared_secret()?;
        let keys = self.public_keys()?;
        if secret.is_none() && keys.is_none() {
            return Err(ConfigError::NoVerificationKey);
        }
        Ok(Verifier::with_keys(
            secret.as_ref(),
            &keys.unwrap_or_default(),
            self.issuer.as_deref(),
            self.audience(),
        ))
    }

    /// The issuer of the configured private key or secret: exactly one of them.
    pub fn issuer(&self) -> Result<Issuer, ConfigError> {
        let issuer = match (self.signing_key()?, self.shared_secret()?) {
            (Some(_), Some(_)) => return Err(ConfigError::TwoSigningKeys),
            (Some(key), None) => Issuer::with_key(&key, self.issuer.clone()),
            (None, Some(secret)) => Issuer::new(&secret, self.issuer.clone()),
            (None, None) => return Err(ConfigError::NoSigningKey),
        };
        Ok(issuer.with_audience(self.audience()))
    }

    fn audience(&self) -> &str {
        self.audience
            .as_deref()
            .unwrap_or(crate::claims::DEFAULT_AUDIENCE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "a-configured-secret-of-32-bytes-or-more";

    #[test]
    fn no_key_is_an_error_that_names_the_variables() {
        let message = AuthConfig::default().verifier().unwrap_err().to_string();
        assert!(message.contains("TV_JWT_PUBLIC_KEYS_FILE"), "{message}");
        assert!(message.contains("TV_JWT_SECRET_FILE"), "{message}");
        let message = AuthConfig::default().issuer().unwrap_err().to_string();
        assert!(message.contains("TV_JWT_PRIVATE_KEY_FILE"), "{message}");
        assert!(message.contains("TV_JWT_SECRET_FILE"), "{message}");
    }

    #[test]
    fn a_verifier_never_uses_a_private_key() {
        let pem = crate::testing::signing_key().to_pem();
        let config = AuthConfig {
            private_key: Some(Secret::unchecked(&pem).unwrap()),
            ..AuthConfig::default()
        };
        assert!(config.issuer().is_ok());
        assert!(matches!(
            config.verifier(),
            Err(ConfigError::NoVerificationKey)
        ));
    }

    #[test]
    fn an_issuer_given_a_private_key_and_a_secret_refuses_to_choose() {
        let pem = crate::testing::signing_key().to_pem();
        let config = AuthConfig {
            private_key: Some(Secret::unchecked(&pem).unwrap()),
            ..AuthConfig::with_secret(TEXT.parse().unwrap())
        };
        assert!(matches!(config.issuer(), Err(ConfigError::TwoSigningKeys)));
    }

    #[test]
    fn an_empty_variable_counts_as_unset() {
        let config = AuthConfig {
            secret: Some(Secret::unchecked("").unwrap()),
            public_keys: Some(crate::testing::public_keys().to_json()),
            private_key_file: Some(PathBuf::new()),
            ..AuthConfig::default()
        };
        assert_eq!(config.shared_secret().unwrap(), None);
        assert!(config.signing_key().unwrap().is_none());
        assert!(config.verifier().is_ok());
    }

    #[test]
    fn a_published_secret_stops_the_verifier_naming_its_variable() {
        let config = AuthConfig::with_secret(
            Secret::unchecked("ticketview-development-secret-not-for-production").unwrap(),
        );
        let message = config.verifier().unwrap_err().to_string();
        assert!(
            message.starts_with("TV_JWT_SECRET holds a published default"),
            "{message}"
        );
    }

    #[test]
    fn two_secrets_are_refused() {
        let config = AuthConfig {
            secret_file: Some("/nonexistent".into()),
            ..AuthConfig::with_secret(TEXT.parse().unwrap())
        };
        let message = config.shared_secret().unwrap_err().to_string();
        assert_eq!(
            message,
            "both TV_JWT_SECRET and TV_JWT_SECRET_FILE are set: keep one"
        );
    }

    #[test]
    fn the_configuration_s_debug_output_holds_no_secret() {
        let pem = crate::testing::signing_key().to_pem();
        let config = AuthConfig {
            issuer: Some("ticketview".into()),
            private_key: Some(Secret::unchecked(&pem).unwrap()),
            ..AuthConfig::with_secret(TEXT.parse().unwrap())
        };
        for shown in [format!("{config:?}"), format!("{config:#?}")] {
            assert!(!shown.contains(TEXT), "{shown}");
            assert!(!shown.contains("PRIVATE KEY"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
    }

    #[test]
    fn the_secret_flag_is_read_and_never_shown_in_help() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            auth: AuthConfig,
        }
        use clap::Parser;
        let cli = Cli::try_parse_from(["cli", "--jwt-secret", TEXT]).unwrap();
        assert_eq!(
            cli.auth.shared_secret().unwrap(),
            Some(TEXT.parse().unwrap())
        );
        let help = <Cli as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        assert!(help.contains("--jwt-secret-file"), "{help}");
        assert!(!help.contains(TEXT), "{help}");
    }

    #[test]
    fn a_short_secret_on_the_command_line_is_refused_without_echoing_it() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            auth: AuthConfig,
        }
        use clap::Parser;
        let cli = Cli::try_parse_from(["cli", "--jwt-secret", "hunter2"]).unwrap();
        let error = cli.auth.verifier().unwrap_err().to_string();
        assert!(error.contains("at least 32"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}

//! Where the secret comes from: `TV_JWT_SECRET_FILE` (preferred: a file keeps the secret out of
//! the process environment and of shell history) or `TV_JWT_SECRET`, and the optional issuer
//! `TV_JWT_ISSUER`. There is no default secret: a service without one refuses to start.

use crate::error::ConfigError;
use crate::issuer::Issuer;
use crate::secret::Secret;
use crate::verifier::Verifier;
use std::path::PathBuf;

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
    /// A file holding the HS256 secret that signs tokens (at least 32 bytes; surrounding
    /// whitespace is ignored).
    #[arg(
        long = "jwt-secret-file",
        env = "TV_JWT_SECRET_FILE",
        value_name = "PATH"
    )]
    pub secret_file: Option<PathBuf>,
    /// When set, tokens must carry this issuer (`iss`), and minted tokens carry it.
    #[arg(long = "jwt-issuer", env = "TV_JWT_ISSUER")]
    pub issuer: Option<String>,
    /// The audience (`aud`) tokens must carry, and minted tokens carry (default `ticketview`).
    #[arg(long = "jwt-audience", env = "TV_JWT_AUDIENCE")]
    pub audience: Option<String>,
}

impl AuthConfig {
    /// Settings with this secret and no issuer check.
    pub fn with_secret(secret: Secret) -> Self {
        Self {
            secret: Some(secret),
            secret_file: None,
            issuer: None,
            audience: None,
        }
    }

    /// The settings in the environment alone (`TV_JWT_SECRET`, `TV_JWT_SECRET_FILE`,
    /// `TV_JWT_ISSUER`), for a binary whose flags do not carry them.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Self {
            secret: var("TV_JWT_SECRET").map(|s| s.parse()).transpose()?,
            secret_file: var("TV_JWT_SECRET_FILE").map(PathBuf::from),
            issuer: var("TV_JWT_ISSUER"),
            audience: var("TV_JWT_AUDIENCE"),
        })
    }

    /// The configured secret; an error that names the variable to set when there is none.
    pub fn secret(&self) -> Result<Secret, ConfigError> {
        match (&self.secret, &self.secret_file) {
            (Some(_), Some(_)) => Err(ConfigError::TwoSecrets),
            (Some(secret), None) => secret.checked(),
            (None, Some(path)) => Secret::from_file(path),
            (None, None) => Err(ConfigError::NoSecret),
        }
    }

    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        Ok(Verifier::for_audience(
            &self.secret()?,
            self.issuer.as_deref(),
            self.audience(),
        ))
    }

    pub fn issuer(&self) -> Result<Issuer, ConfigError> {
        Ok(Issuer::new(&self.secret()?, self.issuer.clone()).with_audience(self.audience()))
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
    fn no_secret_is_an_error_that_names_the_variables() {
        let error = AuthConfig::default().verifier().unwrap_err();
        let message = error.to_string();
        assert!(message.contains("TV_JWT_SECRET_FILE"), "{message}");
        assert!(message.contains("TV_JWT_SECRET "), "{message}");
    }

    #[test]
    fn two_secrets_are_refused() {
        let config = AuthConfig {
            secret_file: Some("/nonexistent".into()),
            ..AuthConfig::with_secret(TEXT.parse().unwrap())
        };
        assert!(matches!(config.secret(), Err(ConfigError::TwoSecrets)));
    }

    #[test]
    fn the_configuration_s_debug_output_holds_no_secret() {
        let config = AuthConfig {
            issuer: Some("ticketview".into()),
            ..AuthConfig::with_secret(TEXT.parse().unwrap())
        };
        for shown in [format!("{config:?}"), format!("{config:#?}")] {
            assert!(!shown.contains(TEXT), "{shown}");
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
        assert_eq!(cli.auth.secret().unwrap(), TEXT.parse().unwrap());
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

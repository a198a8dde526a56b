//! Which payment gateway command-svc charges through, chosen by configuration, and the secrets
//! it needs: `TV_PAYMENT_GATEWAY=http` (the HTTPS gateway, [`super::HttpGateway`]) or `test`
//! ([`super::TestGateway`], whose `tok_ok` buys anything and whose ledger lives in memory).
//!
//! There is no default: a deployment says which one it means. `test` is refused when
//! `TV_ENV=production`, and so is an `http` gateway reached without TLS. The API key and the
//! webhook secret come from a file (preferred: out of the environment and of process listings)
//! or a variable; clap hides their values and `Debug` prints none.

use super::signature::{GatewaySecret, WebhookVerifier};
use super::{HttpGateway, HttpGatewaySettings, PaymentGateway, TestGateway, TestGatewaySettings};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The deployment that must never take the test gateway.
pub const PRODUCTION: &str = "production";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GatewayKind {
    /// A PaymentIntents-style HTTPS gateway (`TV_PAYMENT_GATEWAY_URL`, an API key, a webhook
    /// secret).
    Http,
    /// The in-memory test gateway (tokens `tok_ok`, `tok_decline`, `tok_slow`); never in
    /// production.
    Test,
}

/// The gateway settings of command-svc, flattened into its configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayConfig {
    /// The payment gateway that charges orders: `http` or `test` (required; `test` is refused
    /// when TV_ENV=production).
    #[arg(long = "payment-gateway", env = "TV_PAYMENT_GATEWAY", value_enum)]
    pub kind: GatewayKind,
    /// The deployment's name; `production` refuses the test gateway and a gateway URL without
    /// TLS.
    #[arg(long = "deployment", env = "TV_ENV", default_value = "development")]
    pub deployment: String,
    /// The HTTPS gateway's base URL, without `/v1`.
    #[arg(long = "payment-gateway-url", env = "TV_PAYMENT_GATEWAY_URL")]
    pub url: Option<String>,
    /// The gateway's API key itself (prefer --payment-api-key-file). Hidden, never printed.
    #[arg(
        long = "payment-api-key",
        env = "TV_PAYMENT_API_KEY",
        hide = true,
        hide_env_values = true
    )]
    pub api_key: Option<GatewaySecret>,
    /// A file holding the gateway's API key.
    #[arg(
        long = "payment-api-key-file",
        env = "TV_PAYMENT_API_KEY_FILE",
        value_name = "PATH"
    )]
    pub api_key_file: Option<PathBuf>,
    /// The webhook signing secret itself (prefer --payment-webhook-secret-file). Hidden, never
    /// printed.
    #[arg(
        long = "payment-webhook-secret",
        env = "TV_PAYMENT_WEBHOOK_SECRET",
        hide = true,
        hide_env_values = true
    )]
    pub webhook_secret: Option<GatewaySecret>,
    /// A file holding the secret the gateway signs its webhook requests with.
    #[arg(
        long = "payment-webhook-secret-file",
        env = "TV_PAYMENT_WEBHOOK_SECRET_FILE",
        value_name = "PATH"
    )]
    pub webhook_secret_file: Option<PathBuf>,
    /// How far a webhook's signed timestamp may be from now, in seconds: the replay window.
    #[arg(
        long = "payment-webhook-tolerance-secs",
        env = "TV_PAYMENT_WEBHOOK_TOLERANCE_SECS",
        default_value_t = 300
    )]
    pub webhook_tolerance_secs: u64,
    /// A gateway call without an answer after this many milliseconds is retried with the same
    /// idempotency key.
    #[arg(
        long = "payment-timeout-ms",
        env = "TV_PAYMENT_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub timeout_ms: u64,
    /// Seconds between two looks at a charge the gateway still processes (the webhook usually
    /// settles it first).
    #[arg(
        long = "payment-pending-poll-secs",
        env = "TV_PAYMENT_PENDING_POLL_SECS",
        default_value_t = 5
    )]
    pub pending_poll_secs: u64,
}

impl GatewayConfig {
    /// The test gateway, for tests and local runs.
    pub fn test() -> Self {
        Self {
            kind: GatewayKind::Test,
            deployment: "development".into(),
            url: None,
            api_key: None,
            api_key_file: None,
            webhook_secret: None,
            webhook_secret_file: None,
            webhook_tolerance_secs: 300,
            timeout_ms: 10_000,
            pending_poll_secs: 5,
        }
    }

    /// The HTTPS gateway at `url`, with these secrets.
    pub fn http(url: &str, api_key: &str, webhook_secret: &str) -> Self {
        Self {
            kind: GatewayKind::Http,
            url: Some(url.to_owned()),
            api_key: GatewaySecret::new(api_key),
            webhook_secret: GatewaySecret::new(webhook_secret),
            ..Self::test()
        }
    }

    pub fn pending_poll(&self) -> Duration {
        Duration::from_secs(self.pending_poll_secs.max(1))
    }

    /// The configured gateway, and the verifier of its webhook (none for the test gateway).
    pub fn payments(&self, test: TestGatewaySettings) -> Result<Payments, GatewayConfigError> {
        let production = self.deployment == PRODUCTION;
        match self.kind {
            GatewayKind::Test if production => Err(GatewayConfigError::TestInProduction),
            GatewayKind::Test => Ok(Payments {
                gateway: Arc::new(TestGateway::new(test)),
                webhook: None,
            }),
            GatewayKind::Http => {
                let url = self
                    .url
                    .clone()
                    .ok_or(GatewayConfigError::Missing("TV_PAYMENT_GATEWAY_URL"))?;
                if !url.starts_with("https://") && (production || !url.starts_with("http://")) {
                    return Err(GatewayConfigError::Url(url));
                }
                let api_key = secret(&self.api_key, &self.api_key_file, "TV_PAYMENT_API_KEY_FILE")?;
                let webhook = secret(
                    &self.webhook_secret,
                    &self.webhook_secret_file,
                    "TV_PAYMENT_WEBHOOK_SECRET_FILE",
                )?;
                let gateway = HttpGateway::new(HttpGatewaySettings {
                    base_url: url,
                    api_key,
                    timeout: Duration::from_millis(self.timeout_ms.max(1)),
                })
                .map_err(|e| GatewayConfigError::Client(e.to_string()))?;
                Ok(Payments {
                    gateway: Arc::new(gateway),
                    webhook: Some(WebhookVerifier::new(webhook, self.webhook_tolerance_secs)),
                })
            }
        }
    }
}

/// A secret from its file (preferred) or its variable.
fn secret(
    value: &Option<GatewaySecret>,
    file: &Option<PathBuf>,
    name: &'static str,
) -> Result<GatewaySecret, GatewayConfigError> {
    match (file, value) {
        (Some(path), _) => read_secret(path),
        (None, Some(secret)) => Ok(secret.clone()),
        (None, None) => Err(GatewayConfigError::Missing(name)),
    }
}

fn read_secret(path: &Path) -> Result<GatewaySecret, GatewayConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| GatewayConfigError::File {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    GatewaySecret::new(&text).ok_or_else(|| GatewayConfigError::File {
        path: path.to_owned(),
        reason: "it is empty".into(),
    })
}

/// The gateway command-svc charges through, and how it checks the gateway's webhook.
#[derive(Clone)]
pub struct Payments {
    pub gateway: Arc<dyn PaymentGateway>,
    /// `None`: no webhook is taken (`POST /payments/webhook` answers `400 invalid_signature`).
    pub webhook: Option<WebhookVerifier>,
}

/// Why command-svc will not start with these gateway settings.
#[derive(Debug, thiserror::Error)]
pub enum GatewayConfigError {
    #[error(
        "TV_PAYMENT_GATEWAY=test is refused when TV_ENV=production: its tokens buy anything and \
         its ledger lives in memory; configure TV_PAYMENT_GATEWAY=http"
    )]
    TestInProduction,
    #[error("the http payment gateway needs {0}")]
    Missing(&'static str),
    #[error("the payment gateway URL {0:?} must be https:// (http:// only outside production)")]
    Url(String),
    #[error("reading the secret in {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("the payment gateway client: {0}")]
    Client(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production(config: GatewayConfig) -> GatewayConfig {
        GatewayConfig {
            deployment: PRODUCTION.into(),
            ..config
        }
    }

    #[test]
    fn the_test_gateway_is_refused_in_production_only() {
        let settings = TestGatewaySettings::default;
        assert!(matches!(
            production(GatewayConfig::test()).payments(settings()),
            Err(GatewayConfigError::TestInProduction)
        ));
        assert!(GatewayConfig::test().payments(settings()).is_ok());
    }

    #[test]
    fn the_http_gateway_needs_its_secrets_and_tls_in_production() {
        let settings = TestGatewaySettings::default;
        let http = GatewayConfig::http("http://127.0.0.1:9", "sk_test_1", "whsec_1");
        let payments = http.payments(settings()).unwrap();
        assert!(payments.webhook.is_some());
        assert!(matches!(
            production(http.clone()).payments(settings()),
            Err(GatewayConfigError::Url(_))
        ));
        let https = GatewayConfig::http("https://gateway.example", "sk_live_1", "whsec_1");
        assert!(production(https.clone()).payments(settings()).is_ok());
        let no_secret = GatewayConfig {
            webhook_secret: None,
            ..https
        };
        assert!(matches!(
            no_secret.payments(settings()),
            Err(GatewayConfigError::Missing(
                "TV_PAYMENT_WEBHOOK_SECRET_FILE"
            ))
        ));
    }
}

//! Configuration from flags and environment variables, with local defaults that match
//! `scripts/lib/infra.sh` (NATS on 14222, PostgreSQL on 15432).

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "notifier",
    version,
    about = "TicketView notifier: one notice per order fact, into a PostgreSQL outbox"
)]
pub struct Config {
    /// NATS server with JetStream.
    /// Its user and password: TV_NATS_USER and TV_NATS_PASSWORD_FILE, or user:password in the URL.
    #[arg(
        long,
        env = "NATS_URL",
        hide_env_values = true,
        default_value = "nats://127.0.0.1:14222"
    )]
    pub nats_url: String,
    /// PostgreSQL holding the outbox (`notifications`).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:15432/postgres"
    )]
    pub database_url: String,
    /// Prefix of stream and subject names (tests use their own).
    #[arg(long, env = "TV_PREFIX", default_value = "tv")]
    pub prefix: String,
    /// Most commits fetched at once.
    #[arg(long, env = "TV_NOTIFIER_BATCH", default_value_t = 200)]
    pub batch_size: usize,
    /// How long a fetch waits for the first commit, in milliseconds.
    #[arg(long, env = "TV_NOTIFIER_FETCH_WAIT_MS", default_value_t = 500)]
    pub fetch_wait_ms: u64,
    /// Seconds a delivered commit may stay unacked (and not marked in progress, which a live
    /// notifier does while it works) before it is delivered again: how long the notices of a
    /// crashed notifier wait.
    #[arg(long, env = "TV_NOTIFIER_ACK_WAIT_SECS", default_value_t = 1)]
    pub ack_wait_secs: u64,
    /// Address of the operations endpoints (`/healthz`, `/readyz`, `/metrics`); port 0 picks a
    /// free one.
    #[arg(long, env = "TV_NOTIFIER_ADDR", default_value = "127.0.0.1:8083")]
    pub ops_addr: Option<SocketAddr>,
    /// Timeouts and the connection limit of the operations endpoints (`TV_HTTP_…`).
    #[command(flatten)]
    pub http: tv_kit::HttpConfig,
    /// Log format (`TV_LOG_FORMAT`).
    #[command(flatten)]
    pub log: tv_kit::LogConfig,
    /// Where notices go beyond the outbox: e-mail and webhooks.
    #[command(flatten)]
    pub delivery: DeliveryConfig,
}

/// E-mail and webhooks (`docs/OPERATIONS.md`, "Mail and webhooks"): each is off until configured.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeliveryConfig {
    /// SMTP server for e-mail to buyers: `smtp://host:port` (plain, for a local sink),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465`; `user:password@` for
    /// AUTH. Unset: no e-mail.
    #[arg(long, env = "TV_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of the e-mails.
    #[arg(
        long,
        env = "TV_MAIL_FROM",
        default_value = "TicketView <tickets@ticketview.invalid>"
    )]
    pub mail_from: String,
    /// A customer whose id is not an e-mail address gets mail at `<customer id>@<this domain>`.
    /// Unset: such customers get none (counted as `no_address`).
    #[arg(long, env = "TV_MAIL_DOMAIN")]
    pub mail_domain: Option<String>,
    /// Operators' webhook endpoints, comma-separated: each notice is POSTed to every one.
    #[arg(long, env = "TV_WEBHOOK_URLS", value_delimiter = ',')]
    pub webhook_urls: Vec<String>,
    /// File holding the secret the webhooks are signed with (HMAC-SHA256); needed with
    /// TV_WEBHOOK_URLS.
    #[arg(long, env = "TV_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<std::path::PathBuf>,
    /// Attempts per notice and channel before it goes to the dead-letter stream.
    #[arg(long, env = "TV_NOTIFIER_DELIVERY_ATTEMPTS", default_value_t = 8)]
    pub max_attempts: u32,
    /// Wait before the second attempt, in milliseconds; doubled for each one after, up to an hour.
    #[arg(long, env = "TV_NOTIFIER_RETRY_BASE_MS", default_value_t = 2_000)]
    pub retry_base_ms: u64,
    /// Seconds a sender has for one attempt (SMTP or HTTP); a notice claimed by a sender that died
    /// is tried again after twice that.
    #[arg(long, env = "TV_NOTIFIER_SEND_TIMEOUT_SECS", default_value_t = 15)]
    pub send_timeout_secs: u64,
}

impl DeliveryConfig {
    /// The channels a new notice is queued on: `mail`, then `webhook:<url>` for each endpoint.
    pub fn channels(&self) -> Vec<String> {
        let mut channels = Vec::new();
        if self.smtp_url.is_some() {
            channels.push(crate::deliver::MAIL.to_owned());
        }
        for url in &self.webhook_urls {
            channels.push(format!("{}{url}", crate::deliver::WEBHOOK_PREFIX));
        }
        channels
    }

    pub(crate) fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.send_timeout_secs.max(1))
    }

    /// How long a claimed notice stays claimed: a live sender is done by then.
    pub(crate) fn lease(&self) -> Duration {
        self.send_timeout() * 2
    }

    /// The wait after attempt `attempts` failed: the base, doubled per attempt, at most an hour.
    pub(crate) fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u64 << attempts.saturating_sub(1).min(20);
        Duration::from_millis(self.retry_base_ms.max(1).saturating_mul(factor))
            .min(Duration::from_secs(3600))
    }
}

impl Config {
    /// A configuration for these servers with every other setting at its default, and no
    /// operations endpoints (tests that want them set `ops_addr` to port 0).
    pub fn new(nats_url: &str, database_url: &str, prefix: &str) -> Self {
        Self {
            nats_url: nats_url.to_owned(),
            database_url: database_url.to_owned(),
            prefix: prefix.to_owned(),
            batch_size: 200,
            fetch_wait_ms: 500,
            ack_wait_secs: 1,
            ops_addr: None,
            http: tv_kit::HttpConfig::default(),
            log: tv_kit::LogConfig::default(),
            delivery: DeliveryConfig {
                mail_from: "TicketView <tickets@ticketview.invalid>".into(),
                max_attempts: 8,
                retry_base_ms: 2_000,
                send_timeout_secs: 15,
                ..DeliveryConfig::default()
            },
        }
    }

    pub(crate) fn fetch_wait(&self) -> Duration {
        Duration::from_millis(self.fetch_wait_ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let config = Config::new("nats://x", "postgres://x", "tv").delivery;
        let waits: Vec<u64> = (1..=4)
            .map(|a| config.backoff(a).as_millis() as u64)
            .collect();
        assert_eq!(waits, [2_000, 4_000, 8_000, 16_000]);
        assert_eq!(config.backoff(40), Duration::from_secs(3600));
    }

    #[test]
    fn no_channel_until_configured() {
        let config = Config::parse_from(["notifier"]);
        assert!(config.delivery.channels().is_empty());
        let config = Config::parse_from([
            "notifier",
            "--smtp-url",
            "smtp://127.0.0.1:2525",
            "--webhook-urls",
            "http://a.test/hook,http://b.test/hook",
        ]);
        assert_eq!(
            config.delivery.channels(),
            [
                "mail",
                "webhook:http://a.test/hook",
                "webhook:http://b.test/hook"
            ]
        );
    }
}

//! Delivery from the outbox: the rows of `notice_deliveries` (one per notice and channel, written
//! with the notice) are claimed, sent, and their outcome recorded.
//!
//! Exactly once where it can be: a notice is sent only from its row, the row is claimed for a
//! lease before the send (so two notifiers never send one notice at once) and marked delivered
//! after it. A notifier killed mid-send leaves the row claimed; when the lease runs out another
//! attempt sends it again. The one window left is between the receiver's acceptance (SMTP's 250, an
//! HTTP 2xx) and the row's update: a crash there sends the notice twice, with the same Message-ID
//! (mail) or `TV-Webhook-Id` (webhooks), so the copy can be told (`docs/DECISIONS.md`).
//!
//! A failed attempt is retried after a backoff that doubles; after the last one the notice is
//! published to the dead-letter stream (`<prefix>.deadletter.notices`) and the row marked `dead`.
//!
//! Metrics: `tv_notifier_mail_sent_total`, `tv_notifier_mail_failures_total{reason}`,
//! `tv_notifier_webhook_sent_total`, `tv_notifier_webhook_retries_total`,
//! `tv_notifier_dead_letters_total{channel}`.

use crate::config::DeliveryConfig;
use crate::mail::{MailError, Mailer};
use crate::notice::{NoticeKind, Notification};
use crate::webhook::Webhooks;
use deadpool_postgres::Pool;
use domain::ids::OrderId;
use serde_json::json;
use std::future::Future;
use std::time::Duration;
use tv_nats::EventStore;

/// The e-mail channel.
pub const MAIL: &str = "mail";
/// The webhook channels: `webhook:<url>`.
pub const WEBHOOK_PREFIX: &str = "webhook:";
/// Rows claimed at once.
const CLAIM_BATCH: i64 = 32;
/// How often the outbox is looked at when nothing is due.
const IDLE_POLL: Duration = Duration::from_millis(200);

/// One claimed row: a notice, its channel and the attempt this is.
struct Claimed {
    notice: Notification,
    channel: String,
    attempt: u32,
}

/// What one attempt came to.
enum Outcome {
    Delivered { message_id: Option<String> },
    NoAddress,
    Failed { error: String, retry: bool },
}

/// Sends the outbox's pending deliveries on the configured channels.
pub struct Dispatcher {
    pool: Pool,
    store: EventStore,
    config: DeliveryConfig,
    channels: Vec<String>,
    mailer: Option<Mailer>,
    webhooks: Option<Webhooks>,
}

impl Dispatcher {
    /// A dispatcher for the channels `config` names; `None` when it names none.
    pub fn new(
        pool: Pool,
        store: EventStore,
        config: &DeliveryConfig,
    ) -> anyhow::Result<Option<Self>> {
        let channels = config.channels();
        if channels.is_empty() {
            return Ok(None);
        }
        let mailer = match &config.smtp_url {
            Some(url) => Some(Mailer::new(
                url,
                &config.mail_from,
                config.mail_domain.clone(),
                config.send_timeout(),
            )?),
            None => None,
        };
        let webhooks = if config.webhook_urls.is_empty() {
            None
        } else {
            let path = config.webhook_secret_file.as_ref().ok_or_else(|| {
                anyhow::anyhow!("TV_WEBHOOK_URLS needs TV_WEBHOOK_SECRET_FILE, the signing secret")
            })?;
            let secret = std::fs::read(path).map_err(|e| {
                anyhow::anyhow!("reading TV_WEBHOOK_SECRET_FILE {}: {e}", path.display())
            })?;
            let secret = String::from_utf8_lossy(&secret).trim().as_bytes().to_vec();
            Some(Webhooks::new(secret, config.send_timeout())?)
        };
        Ok(Some(Self {
            pool,
            store,
            config: config.clone(),
            channels,
            mailer,
            webhooks,
        }))
    }

    /// Delivers until `stop` resolves; the attempt in flight is finished first.
    pub async fn run(&self, stop: impl Future<Output = ()>) {
        tracing::info!(channels = ?self.channels, "notice delivery running");
        tokio::pin!(stop);
        let mut backoff = IDLE_POLL;
        loop {
            let claimed = tokio::select! {
                _ = &mut stop => break,
                claimed = self.claim() => claimed,
            };
            match claimed {
                Ok(claimed) if claimed.is_empty() => {}
                Ok(claimed) => {
                    backoff = IDLE_POLL;
                    for row in claimed {
                        let outcome = self.attempt(&row).await;
                        if let Err(e) = self.record(&row, outcome).await {
                            // The row stays claimed; its lease runs out and it is tried again.
                            tracing::warn!(error = %e, notice = %row.notice.id, "delivery not recorded");
                        }
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming deliveries failed; retrying");
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(backoff) => {}
            }
        }
    }

    /// Claims the due rows of the configured channels for one lease.
    async fn claim(&self) -> anyhow::Result<Vec<Claimed>> {
        let client = self.pool.get().await?;
        let lease = self.config.lease().as_secs_f64();
        let rows = client
            .query(
                "WITH due AS (
                     SELECT notice_id, channel FROM notice_deliveries
                     WHERE state = 'pending' AND next_attempt_at <= now()
                       AND channel = ANY($1::text[])
                     ORDER BY next_attempt_at
                     LIMIT $2
                     FOR UPDATE SKIP LOCKED
                 ), claimed AS (
                     UPDATE notice_deliveries d
                     SET attempts = d.attempts + 1,
                         next_attempt_at = now() + make_interval(secs => $3)
                     FROM due
                     WHERE d.notice_id = due.notice_id AND d.channel = due.channel
                     RETURNING d.notice_id, d.channel, d.attempts
                 )
                 SELECT c.notice_id, c.channel, c.attempts, n.order_id, n.customer_id, n.kind,
                     n.body, n.stream, n.stream_sequence
                 FROM claimed c JOIN notifications n ON n.id = c.notice_id",
                &[&self.channels, &CLAIM_BATCH, &lease],
            )
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.get(5);
            let Some(kind) = NoticeKind::parse(&kind) else {
                tracing::warn!(kind, "a notice of a kind this build does not know; left");
                continue;
            };
            let stream: String = row.get(7);
            claimed.push(Claimed {
                notice: Notification {
                    id: row.get(0),
                    order_id: row.get::<_, Option<uuid::Uuid>>(3).map(OrderId::from_uuid),
                    customer_id: row.get(4),
                    kind,
                    body: row.get(6),
                    stream: if stream == "inventory" {
                        "inventory"
                    } else {
                        "orders"
                    },
                    stream_sequence: row.get::<_, i64>(8) as u64,
                },
                channel: row.get(1),
                attempt: row.get::<_, i32>(2).max(0) as u32,
            });
        }
        Ok(claimed)
    }

    /// One attempt at one row.
    async fn attempt(&self, row: &Claimed) -> Outcome {
        if row.channel == MAIL {
            let Some(mailer) = &self.mailer else {
                return Outcome::Failed {
                    error: "mail is not configured".into(),
                    retry: true,
                };
            };
            return match mailer.send(&row.notice).await {
                Ok(id) => {
                    metrics::counter!("tv_notifier_mail_sent_total", "kind" => row.notice.kind.as_str())
                        .increment(1);
                    Outcome::Delivered {
                        message_id: Some(id),
                    }
                }
                Err(MailError::NoAddress) => {
                    metrics::counter!("tv_notifier_mail_failures_total", "reason" => "no_address")
                        .increment(1);
                    Outcome::NoAddress
                }
                Err(MailError::Invalid(error)) => {
                    metrics::counter!("tv_notifier_mail_failures_total", "reason" => "invalid")
                        .increment(1);
                    Outcome::Failed {
                        error,
                        retry: false,
                    }
                }
                Err(MailError::Transport(error)) => {
                    metrics::counter!("tv_notifier_mail_failures_total", "reason" => "transport")
                        .increment(1);
                    Outcome::Failed { error, retry: true }
                }
            };
        }
        let (Some(url), Some(webhooks)) =
            (row.channel.strip_prefix(WEBHOOK_PREFIX), &self.webhooks)
        else {
            return Outcome::Failed {
                error: format!("unknown channel {}", row.channel),
                retry: false,
            };
        };
        match webhooks.send(url, &row.notice).await {
            Ok(()) => {
                metrics::counter!("tv_notifier_webhook_sent_total").increment(1);
                Outcome::Delivered { message_id: None }
            }
            Err(error) => Outcome::Failed { error, retry: true },
        }
    }

    /// Records the outcome of `row`'s attempt; a last failure goes to the dead-letter stream
    /// first.
    async fn record(&self, row: &Claimed, outcome: Outcome) -> anyhow::Result<()> {
        let client = self.pool.get().await?;
        let key = [
            &row.notice.id as &(dyn tokio_postgres::types::ToSql + Sync),
            &row.channel,
        ];
        match outcome {
            Outcome::Delivered { message_id } => {
                client
                    .execute(
                        "UPDATE notice_deliveries SET state = 'delivered', delivered_at = now(),
                             message_id = $3, last_error = NULL
                         WHERE notice_id = $1 AND channel = $2",
                        &[key[0], key[1], &message_id],
                    )
                    .await?;
            }
            Outcome::NoAddress => {
                client
                    .execute(
                        "UPDATE notice_deliveries SET state = 'no_address'
                         WHERE notice_id = $1 AND channel = $2",
                        &key,
                    )
                    .await?;
            }
            Outcome::Failed { error, retry }
                if retry && row.attempt < self.config.max_attempts.max(1) =>
            {
                let wait = self.config.backoff(row.attempt);
                tracing::info!(notice = %row.notice.id, channel = %row.channel, attempt = row.attempt,
                    error = %error, retry_in = ?wait, "delivery failed; retrying");
                if row.channel != MAIL {
                    metrics::counter!("tv_notifier_webhook_retries_total").increment(1);
                }
                client
                    .execute(
                        "UPDATE notice_deliveries SET last_error = $3,
                             next_attempt_at = now() + make_interval(secs => $4)
                         WHERE notice_id = $1 AND channel = $2",
                        &[key[0], key[1], &error, &wait.as_secs_f64()],
                    )
                    .await?;
            }
            Outcome::Failed { error, .. } => {
                self.dead_letter(row, &error).await?;
                tracing::warn!(notice = %row.notice.id, channel = %row.channel, attempts = row.attempt,
                    error = %error, "delivery given up; sent to the dead-letter stream");
                let channel = if row.channel == MAIL { MAIL } else { "webhook" };
                metrics::counter!("tv_notifier_dead_letters_total", "channel" => channel)
                    .increment(1);
                client
                    .execute(
                        "UPDATE notice_deliveries SET state = 'dead', last_error = $3
                         WHERE notice_id = $1 AND channel = $2",
                        &[key[0], key[1], &error],
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Publishes `row` to the dead-letter stream, once (its `Nats-Msg-Id` is the notice and the
    /// channel), and waits for the stream's ack.
    async fn dead_letter(&self, row: &Claimed, error: &str) -> anyhow::Result<()> {
        let subject = dead_letter_subject(&self.store);
        let payload = serde_json::to_vec(&json!({
            "notice_id": row.notice.id,
            "channel": row.channel,
            "attempts": row.attempt,
            "error": error,
            "kind": row.notice.kind.as_str(),
            "order_id": row.notice.order_id,
            "customer_id": row.notice.customer_id,
            "body": row.notice.body,
        }))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Nats-Msg-Id",
            format!("{}|{}", row.notice.id, row.channel).as_str(),
        );
        self.store
            .jetstream()
            .publish_with_headers(subject, headers, payload.into())
            .await
            .map_err(|e| anyhow::anyhow!("publishing to the dead-letter stream: {e}"))?
            .await
            .map_err(|e| anyhow::anyhow!("the dead-letter stream's ack: {e}"))?;
        Ok(())
    }
}

/// `<prefix>.deadletter.notices`: where undeliverable notices go.
pub fn dead_letter_subject(store: &EventStore) -> String {
    store
        .naming()
        .subject(tv_nats::Stream::DeadLetter, "notices")
}

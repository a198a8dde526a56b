//! The notifier: TicketView's reference downstream subscriber.
//!
//! It reads the ORDERS and INVENTORY streams as any system outside TicketView would
//! (`docs/events.md`): durable consumers of its own, every fact decoded from the published schema,
//! nothing asked of any other service. For each fact a customer hears about (an order confirmed
//! with its tickets, a payment declined, an order expired, a refund; seats offered to a
//! waiting-list entry, and the offer running out) it writes one notice to an outbox table in PostgreSQL and
//! logs a line ([`Sink`]s: [`PostgresOutbox`], then [`LogSink`]).
//!
//! Exactly one notice per fact: a notice's id names its fact (`<order id>:<kind>`), the outbox
//! inserts with `ON CONFLICT DO NOTHING`, and a delivery is acked (explicitly, one by one) only
//! once its notices are stored. A redelivery or a restart finds the rows there and adds nothing;
//! the log line is written only for notices the outbox stored for the first time.
//!
//! Delivery ([`deliver`]) goes from the outbox: with each new notice, in the same statement, a row
//! per configured channel (e-mail over SMTP, signed webhooks) that a dispatcher claims, sends and
//! marks, retrying with backoff and giving up into the dead-letter stream. Nothing is configured,
//! nothing is sent: the outbox and the log line stay as they were.
//!
//! Startup is [`Notifier::build`] (connect, migrate its own table, bind the consumer and the
//! operations port), then [`Notifier::run_until_stopped`]. While it runs it serves `/healthz`,
//! `/readyz` and `/metrics` on `TV_NOTIFIER_ADDR` (notices written and skipped, consumer lag).

mod app;
mod config;
pub mod deliver;
pub mod mail;
mod notice;
mod ops;
mod outbox;
mod report;
mod sink;
pub mod template;
mod waitlist;
pub mod webhook;

pub use app::{Notifier, DURABLE_NAME, WAITLIST_DURABLE_NAME};
pub use config::{Config, DeliveryConfig};
pub use notice::{notices_of, NoticeKind, Notification};
pub use outbox::{migrate, PostgresOutbox};
pub use sink::{LogSink, Sink, SinkError};
pub use waitlist::waitlist_notices;

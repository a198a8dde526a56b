//! E-mail to buyers over SMTP (`TV_SMTP_URL`): one mail per notice, a text and an HTML body
//! ([`crate::template`]).
//!
//! The recipient is the customer: a customer id that is an e-mail address is used as it is (the
//! `sub` of a token is the customer id); any other id gets `<customer id>@<TV_MAIL_DOMAIN>` when
//! that domain is configured, and no mail otherwise.
//!
//! The Message-ID is derived from the notice id ([`message_id`]): a mail sent twice for one notice
//! (the notifier died after the server took it and before the outbox recorded it) carries the same
//! Message-ID both times, so a mail system or the buyer's client can tell the copy.

use crate::notice::Notification;
use crate::template::render;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The customer has no address this notifier knows: nothing to retry.
    #[error("no e-mail address known for this customer (set TV_MAIL_DOMAIN)")]
    NoAddress,
    /// The mail could not be built (a bad sender or recipient): retrying changes nothing.
    #[error("{0}")]
    Invalid(String),
    /// The server refused or could not be reached: worth another attempt.
    #[error("{0}")]
    Transport(String),
}

/// Sends notices' mails through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: Option<String>,
}

impl Mailer {
    /// A mailer for `smtp_url` (`smtp://`, `smtps://`), sending as `from`.
    pub fn new(
        smtp_url: &str,
        from: &str,
        domain: Option<String>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| anyhow::anyhow!("TV_SMTP_URL is not an SMTP URL ({e}): use smtp://host:port or smtps://host:port"))?
            .timeout(Some(timeout))
            .build();
        let from = from.parse().map_err(|e| {
            anyhow::anyhow!("TV_MAIL_FROM {from:?} is not a mailbox ({e}): use Name <addr@domain>")
        })?;
        Ok(Self {
            transport,
            from,
            domain,
        })
    }

    /// Sends the mail of `notice`; returns its Message-ID.
    pub async fn send(&self, notice: &Notification) -> Result<String, MailError> {
        let to =
            recipient(&notice.customer_id, self.domain.as_deref()).ok_or(MailError::NoAddress)?;
        let to: Mailbox = to
            .parse()
            .map_err(|e| MailError::Invalid(format!("recipient {to:?}: {e}")))?;
        let id = message_id(&notice.id);
        let mail = build(&self.from, to, &id, notice)?;
        self.transport
            .send(mail)
            .await
            .map_err(|e| MailError::Transport(format!("SMTP: {e}")))?;
        Ok(id)
    }
}

/// The mail of `notice`, from `from` to `to`, with Message-ID `id`.
fn build(
    from: &Mailbox,
    to: Mailbox,
    id: &str,
    notice: &Notification,
) -> Result<Message, MailError> {
    let rendered = render(notice);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(id.to_owned()))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(rendered.text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(rendered.html),
                ),
        )
        .map_err(|e| MailError::Invalid(format!("building the mail: {e}")))
}

/// The address of a customer: the id itself when it is an address, else `<id>@<domain>`.
pub fn recipient(customer_id: &str, domain: Option<&str>) -> Option<String> {
    match customer_id.split_once('@') {
        Some((local, host)) if !local.is_empty() && host.contains('.') => {
            Some(customer_id.to_owned())
        }
        Some(_) => None,
        None => domain
            .filter(|d| !d.is_empty())
            .map(|d| format!("{customer_id}@{d}")),
    }
}

/// `<notice.<notice id>@ticketview>` with the id's `:` as `.`: the same for every send of one
/// notice, and different for every notice.
pub fn message_id(notice_id: &str) -> String {
    let local: String = notice_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<notice.{local}@ticketview>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::NoticeKind;

    #[test]
    fn the_recipient_is_the_customer_id_or_a_mapping_into_the_domain() {
        assert_eq!(
            recipient("ann@example.com", None).as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(
            recipient("cust_42", Some("buyers.example")).as_deref(),
            Some("cust_42@buyers.example")
        );
        assert_eq!(recipient("cust_42", None), None);
        assert_eq!(recipient("odd@local", Some("x.example")), None);
    }

    #[test]
    fn a_notice_always_gets_the_same_message_id_and_another_notice_another() {
        let order = "0b6f6a3e-5f6c-4c61-9a39-1b9c1a2f0c11";
        let confirmed = message_id(&format!("{order}:order_confirmed"));
        assert_eq!(
            confirmed,
            format!("<notice.{order}.order_confirmed@ticketview>")
        );
        assert_eq!(confirmed, message_id(&format!("{order}:order_confirmed")));
        assert_ne!(confirmed, message_id(&format!("{order}:order_refunded")));
    }

    #[test]
    fn the_mail_has_both_bodies_and_the_derived_message_id() {
        let notice = Notification {
            id: "o-1:order_refunded".into(),
            order_id: None,
            customer_id: "ann@example.com".into(),
            kind: NoticeKind::OrderRefunded,
            body: serde_json::json!({ "order_id": "o-1", "amount_minor": 500, "currency": "EUR" }),
            stream: "orders",
            stream_sequence: 3,
        };
        let from: Mailbox = "TicketView <t@example.com>".parse().unwrap();
        let to: Mailbox = "ann@example.com".parse().unwrap();
        let id = message_id(&notice.id);
        let mail = build(&from, to, &id, &notice).unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        assert!(
            raw.contains("Message-ID: <notice.o-1.order_refunded@ticketview>"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        assert!(raw.contains("Subject: Your refund"), "{raw}");
    }
}

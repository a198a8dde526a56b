//! The notifier's deliveries, against real NATS and PostgreSQL:
//!
//! - a confirmed order's mail arrives once although the notifier (a real process) is killed with
//!   SIGKILL while the SMTP server holds the mail unanswered, and started again;
//! - a webhook answered 500 is retried and then delivered, every attempt signed so that the
//!   receiver verifies it;
//! - a webhook endpoint that always fails ends with the notice in the dead-letter stream.
//!
//! The facts are appended to the orders stream directly, as command-svc writes them.

use domain::catalog::{CatalogEvent, EventDetails, EventDraft, SectionDraft};
use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, OrderId, PaymentId, SectionId};
use domain::ordering::{tickets_for, OrderEvent};
use e2e::mail_sink::{header, MailSink};
use e2e::process::{service_binary, ChildProcess, ScratchDir};
use e2e::readside::{spawn_notifier_with, Database};
use e2e::webhook_receiver::WebhookReceiver;
use e2e::{scenario, TestEnv};
use std::future::Future;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tv_nats::{CommitMeta, EventRecord, EventStore, Stream};

const SECRET: &[u8] = b"whsec_test_0123456789abcdef";
/// An event name as an organiser may type it: markup that must not reach a mail's HTML as markup.
const EVENT_NAME: &str = "Rock <b>&</b> Roll";

/// An event created on the catalog stream with [`EVENT_NAME`]: its id.
async fn created_event(store: &EventStore) -> EventId {
    let event = EventId::new_random();
    let draft = EventDraft {
        name: EVENT_NAME.into(),
        venue: "Hall".into(),
        starts_at: time::OffsetDateTime::now_utc() + time::Duration::days(30),
        currency: "EUR".into(),
        sections: vec![SectionDraft {
            section_id: "floor".into(),
            name: "Floor".into(),
            price_minor: 3_500,
            rows: None,
            capacity: Some(100),
            ticket_types: None,
        }],
        sale_opens_at: None,
        sale_closes_at: None,
        hold_ttl_seconds: None,
        max_tickets_per_customer: None,
        waiting_room: None,
        presales: Vec::new(),
    };
    let created = CatalogEvent::EventCreated {
        event_id: event,
        details: EventDetails::parse(draft).expect("a valid event"),
    };
    store
        .append(
            Stream::Catalog,
            &event.to_string(),
            0,
            &CommitMeta::new(&event.to_string(), "test"),
            &[EventRecord::new(1, created)],
        )
        .await
        .expect("appending the event");
    event
}

/// An order placed, paid and confirmed with two tickets, on the orders stream: its id and ticket
/// codes.
async fn confirmed_order(
    store: &EventStore,
    event: EventId,
    customer: &str,
) -> (OrderId, Vec<String>) {
    let customer = CustomerId::parse(customer).expect("a customer id");
    let key = IdempotencyKey::parse("order-1").expect("a key");
    let order_id = OrderId::derive(&customer, &key);
    let section = SectionId::parse("floor").expect("a section");
    let tickets = tickets_for(order_id, &section, &[], 2);
    let codes = tickets.iter().map(|t| t.code.to_string()).collect();
    let facts = vec![
        OrderEvent::OrderPlaced {
            order_id,
            customer_id: customer.clone(),
            hold_id: HoldId::derive(event, &customer, &key),
            event_id: event,
            section_id: section,
            seats: vec![],
            quantity: 2,
            unit_price_minor: 3_500,
            total_minor: 7_000,
            currency: "EUR".parse().expect("a currency"),
            payment_ref: Some("pi_test_1".into()),
            payment_token: None,
            expires_at: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
        },
        OrderEvent::PaymentCaptured {
            payment_id: PaymentId::for_order(order_id),
            amount_minor: 7_000,
        },
        OrderEvent::OrderConfirmed { tickets },
    ];
    let records: Vec<_> = facts.into_iter().map(|f| EventRecord::new(1, f)).collect();
    store
        .append(
            Stream::Orders,
            &order_id.to_string(),
            0,
            &CommitMeta::new(&order_id.to_string(), "test"),
            &records,
        )
        .await
        .expect("appending the order");
    (order_id, codes)
}

/// `(state, attempts)` of each delivery row of `notice`.
async fn deliveries(database: &Database, notice: &str) -> Vec<(String, String, i32)> {
    let client = database.client().await;
    client
        .query(
            "SELECT channel, state, attempts FROM notice_deliveries WHERE notice_id = $1
             ORDER BY channel",
            &[&notice],
        )
        .await
        .map(|rows| {
            rows.iter()
                .map(|row| (row.get(0), row.get(1), row.get(2)))
                .collect()
        })
        .unwrap_or_default()
}

/// Polls `done` every 20 ms until it holds, failing after `limit` with `what`.
async fn wait_until<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The notifier as a real process sending mail to `smtp_url`.
fn notifier_process(prefix: &str, database: &Database, smtp_url: &str, log: &Path) -> ChildProcess {
    let mut command = Command::new(service_binary("notifier", "notifier"));
    command
        .env("NATS_URL", e2e::nats_url())
        .env("DATABASE_URL", &database.url)
        .env("TV_PREFIX", prefix)
        .env("TV_NOTIFIER_ADDR", "127.0.0.1:0")
        .env("TV_SMTP_URL", smtp_url)
        .env("TV_MAIL_DOMAIN", "buyers.test")
        // One attempt may take 2 s; a notice claimed by a notifier that died is due after 4 s.
        .env("TV_NOTIFIER_SEND_TIMEOUT_SECS", "2")
        .env("TV_LOG_FORMAT", "text")
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or("info".into()),
        )
        .env_remove("TV_WEBHOOK_URLS")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    ChildProcess::spawn("notifier", command, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_confirmed_orders_mail_arrives_once_though_the_notifier_is_killed_mid_send() {
    scenario(|env: TestEnv| async move {
        let database = Database::create().await;
        let sink = MailSink::start().await;
        let log = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("notify-delivery-{}.log", env.prefix));
        let event = created_event(&env.store).await;
        let (order, codes) = confirmed_order(&env.store, event, "ann").await;
        let notice = format!("{order}:order_confirmed");

        // The first send is held before the server's answer; the notifier dies waiting for it.
        sink.hold_next();
        let mut notifier = notifier_process(&env.prefix, &database, &sink.url(), &log);
        assert!(
            sink.wait_held(Duration::from_secs(60)).await,
            "no mail reached the sink: {}",
            notifier.log_tail(30)
        );
        notifier.kill();
        assert!(sink.mails().is_empty(), "a held mail is not accepted");

        let mut notifier = notifier_process(&env.prefix, &database, &sink.url(), &log);
        wait_until(
            Duration::from_secs(30),
            "the mail after the restart",
            || async { !sink.mails().is_empty() },
        )
        .await;
        // Past two more leases: still one mail, and its row says delivered on the second attempt.
        tokio::time::sleep(Duration::from_secs(9)).await;
        let mails = sink.mails();
        assert_eq!(mails.len(), 1, "one mail: {mails:#?}");
        let mail = &mails[0];
        assert_eq!(
            header(mail, "Message-ID"),
            Some(notifier::mail::message_id(&notice)),
            "{mail}"
        );
        assert_eq!(header(mail, "To").as_deref(), Some("ann@buyers.test"));
        for code in &codes {
            assert!(mail.contains(code), "ticket {code} in the mail: {mail}");
        }
        // The organiser's name, escaped in the HTML part (and no markup of theirs in it).
        let html = &mail[mail.find("text/html").expect("an HTML part")..];
        assert!(
            html.contains("Rock &lt;b&gt;&amp;&lt;/b&gt; Roll"),
            "{mail}"
        );
        assert!(!html.contains("<b>"), "{mail}");
        assert_eq!(
            deliveries(&database, &notice).await,
            [("mail".to_owned(), "delivered".to_owned(), 2)]
        );
        notifier.kill();
    })
    .await;
}

/// Writes the webhook secret into a file of `dir`.
fn secret_file(dir: &ScratchDir) -> std::path::PathBuf {
    let path = dir.path().join("webhook-secret");
    std::fs::write(&path, SECRET).expect("writing the webhook secret");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_answered_500_is_retried_then_delivered_signed() {
    scenario(|env: TestEnv| async move {
        let database = Database::create().await;
        let receiver = WebhookReceiver::start(SECRET, &[500, 200]).await;
        let dir = ScratchDir::new("webhook");
        let secret = secret_file(&dir);
        let url = receiver.url();
        let notifier = spawn_notifier_with(&env.prefix, &database, |config| {
            config.delivery.webhook_urls = vec![url.clone()];
            config.delivery.webhook_secret_file = Some(secret);
            config.delivery.retry_base_ms = 300;
        })
        .await;
        let (order, _) =
            confirmed_order(&env.store, EventId::new_random(), "bob@example.com").await;
        let notice = format!("{order}:order_confirmed");
        wait_until(Duration::from_secs(30), "the webhook delivered", || async {
            deliveries(&database, &notice)
                .await
                .iter()
                .any(|(_, state, _)| state == "delivered")
        })
        .await;
        // Nothing more comes after a delivery.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let received = receiver.received();
        assert_eq!(
            received.iter().map(|r| r.answered).collect::<Vec<_>>(),
            [500, 200]
        );
        for request in &received {
            assert!(request.verified, "a signature the receiver verifies");
            assert_eq!(request.id, notice);
            assert_eq!(request.body["kind"], "order_confirmed");
            assert_eq!(
                request.body["data"]["tickets"].as_array().map(Vec::len),
                Some(2)
            );
        }
        assert_eq!(
            deliveries(&database, &notice).await,
            [(format!("webhook:{url}"), "delivered".to_owned(), 2)]
        );
        notifier.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_that_always_fails_ends_in_the_dead_letter_stream() {
    scenario(|env: TestEnv| async move {
        let database = Database::create().await;
        let receiver = WebhookReceiver::start(SECRET, &[503]).await;
        let dir = ScratchDir::new("webhook");
        let secret = secret_file(&dir);
        let url = receiver.url();
        let notifier = spawn_notifier_with(&env.prefix, &database, |config| {
            config.delivery.webhook_urls = vec![url.clone()];
            config.delivery.webhook_secret_file = Some(secret);
            config.delivery.retry_base_ms = 100;
            config.delivery.max_attempts = 3;
        })
        .await;
        let (order, _) =
            confirmed_order(&env.store, EventId::new_random(), "carol@example.com").await;
        let notice = format!("{order}:order_confirmed");
        wait_until(Duration::from_secs(30), "the notice given up", || async {
            deliveries(&database, &notice)
                .await
                .iter()
                .any(|(_, state, _)| state == "dead")
        })
        .await;
        let received = receiver.received();
        assert_eq!(received.len(), 3, "three attempts: {received:#?}");
        assert!(received.iter().all(|r| r.verified && r.id == notice));

        let subject = notifier::deliver::dead_letter_subject(&env.store);
        let dead = env
            .store
            .jetstream()
            .get_stream(env.store.naming().stream(Stream::DeadLetter))
            .await
            .expect("the dead-letter stream")
            .get_last_raw_message_by_subject(&subject)
            .await
            .expect("a dead letter");
        let letter: serde_json::Value =
            serde_json::from_slice(&dead.payload).expect("a JSON dead letter");
        assert_eq!(letter["notice_id"], notice);
        assert_eq!(letter["channel"], format!("webhook:{url}"));
        assert_eq!(letter["attempts"], 3);
        assert!(
            letter["error"].as_str().unwrap_or_default().contains("503"),
            "{letter}"
        );
        assert_eq!(letter["body"]["total_minor"], 7_000);
        notifier.stop().await;
    })
    .await;
}

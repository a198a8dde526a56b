//! Shared by the notifier's integration tests: a stream prefix and a PostgreSQL database of the
//! test's own (dropped at the end, even by a panic), order facts appended as the ordering context
//! appends them, and a notifier running in-process with its operations endpoints on port 0.
//!
//! Needs NATS_URL and DATABASE_URL (a server database the tests create their own databases from).
#![allow(dead_code)]

use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, OrderId, PaymentId, SectionId};
use domain::ordering::{tickets_for, OrderEvent};
use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_postgres::NoTls;
use tv_nats::{CommitMeta, EventRecord, EventStore, Naming, Stream};
use uuid::Uuid;

pub fn nats_url() -> String {
    std::env::var("NATS_URL").expect("NATS_URL must point at a nats-server with JetStream")
}

pub fn server_database_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a PostgreSQL server")
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A test's own stream prefix and database.
pub struct TestEnv {
    pub prefix: String,
    pub database: String,
    pub database_url: String,
    pub store: EventStore,
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        let id = Uuid::new_v4().simple().to_string();
        let prefix = format!("n{}", &id[..12]);
        let database = format!("tv_test_{}", &id[..16]);
        let (admin, connection) = tokio_postgres::connect(&server_database_url(), NoTls)
            .await
            .expect("connecting to DATABASE_URL");
        tokio::spawn(connection);
        admin
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await
            .expect("creating the test database");
        let store = EventStore::connect(&nats_url(), Naming::new(&prefix))
            .await
            .expect("connecting to NATS_URL");
        store.provision().await.expect("provisioning streams");
        TestEnv {
            prefix,
            database_url: with_database(&server_database_url(), &database),
            database,
            store,
        }
    }

    /// The notifier's configuration for this test: operations endpoints on a free port.
    pub fn config(&self) -> notifier::Config {
        let mut config = notifier::Config::new(&nats_url(), &self.database_url, &self.prefix);
        config.fetch_wait_ms = 50;
        config.ops_addr = Some("127.0.0.1:0".parse().expect("an address"));
        config
    }

    /// Appends `commits` (each a list of facts) to the order `id`, in order.
    pub async fn append_order(&self, id: OrderId, commits: Vec<Vec<OrderEvent>>) {
        let mut expected = 0;
        for facts in commits {
            let records: Vec<_> = facts.iter().map(|e| EventRecord::new(1, e)).collect();
            let position = self
                .store
                .append(
                    Stream::Orders,
                    &id.to_string(),
                    expected,
                    &CommitMeta::new("Order", "test"),
                    &records,
                )
                .await
                .expect("appending an order commit");
            expected = position.sequence;
        }
    }

    /// The outbox's rows: `(id, kind)`, by id.
    pub async fn outbox(&self) -> Vec<(String, String)> {
        let (client, connection) = tokio_postgres::connect(&self.database_url, NoTls)
            .await
            .expect("connecting to the test database");
        tokio::spawn(connection);
        client
            .query("SELECT id, kind FROM notifications ORDER BY id", &[])
            .await
            .expect("reading the outbox")
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let database = self.database.clone();
        let prefix = self.prefix.clone();
        // Async cleanup from a plain thread with its own runtime: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                if let Ok((admin, connection)) =
                    tokio_postgres::connect(&server_database_url(), NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                        .await;
                }
                if let Ok(client) = tv_nats::connect(&nats_url()).await {
                    let js = async_nats::jetstream::new(client);
                    let naming = Naming::new(&prefix);
                    for stream in Stream::ALL {
                        let _ = js.delete_stream(naming.stream(stream)).await;
                    }
                }
            });
        })
        .join();
    }
}

/// A notifier running in-process until [`Running::stop`].
pub struct Running {
    pub ops_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn start(notifier: notifier::Notifier) -> Running {
        let ops_addr = notifier.ops_addr().expect("operations endpoints bound");
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(notifier.run_until(async {
            let _ = stopped.await;
        }));
        Running {
            ops_addr,
            stop,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.ops_addr)
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the notifier task")
            .expect("the notifier stops cleanly");
    }
}

/// An order placed by `customer` for two GA tickets, then `ending`: `confirmed` (paid, tickets
/// issued) or `declined` (the card was declined).
pub fn order_facts(order_id: OrderId, customer: &str, ending: &str) -> Vec<Vec<OrderEvent>> {
    let event = EventId::new_random();
    let customer = CustomerId::parse(customer).expect("a customer id");
    let section = SectionId::parse("floor").expect("a section id");
    let placed = OrderEvent::OrderPlaced {
        order_id,
        customer_id: customer.clone(),
        hold_id: HoldId::derive(
            event,
            &customer,
            &IdempotencyKey::parse("k").expect("a key"),
        ),
        event_id: event,
        section_id: section.clone(),
        seats: vec![],
        quantity: 2,
        unit_price_minor: 3_500,
        total_minor: 7_000,
        currency: "EUR".parse().expect("a currency"),
        payment_ref: Some("pi_test_1".into()),
        payment_token: None,
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::minutes(10),
    };
    match ending {
        "confirmed" => vec![
            vec![placed],
            vec![OrderEvent::PaymentCaptured {
                payment_id: PaymentId::for_order(order_id),
                amount_minor: 7_000,
            }],
            vec![OrderEvent::OrderConfirmed {
                tickets: tickets_for(order_id, &section, &[], 2),
            }],
        ],
        "declined" => vec![
            vec![placed],
            vec![OrderEvent::PaymentFailed {
                reason: "card_declined".into(),
            }],
        ],
        other => panic!("no order ending {other}"),
    }
}

/// The value of the sample `name` (with its labels, as rendered: `name{kind="x"}`) in a
/// Prometheus text exposition, if it is there.
pub fn sample(exposition: &str, name: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let value = rest.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

//! The read side and the notifier inside a test: a PostgreSQL database of the test's own, the
//! projector, query-svc and the notifier, each built by its own `build` and run in-process under
//! the test's stream prefix, and stopped (gracefully) by [`ReadSide::shutdown`].
//!
//! Needs `DATABASE_URL` (a server database the tests create their own databases from; the
//! project's PostgreSQL by default).

use anyhow::Context;
use reqwest::StatusCode;
use serde_json::Value;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_postgres::NoTls;

/// The PostgreSQL server of the tests: `DATABASE_URL`, or the project's.
pub fn server_database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:15432/postgres".into())
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

async fn admin(statement: &str) {
    let (client, connection) = tokio_postgres::connect(&server_database_url(), NoTls)
        .await
        .expect("connecting to DATABASE_URL (./scripts/test starts PostgreSQL)");
    tokio::spawn(connection);
    client
        .batch_execute(statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// A database of one test, dropped when the value is.
pub struct Database {
    pub name: String,
    pub url: String,
}

impl Database {
    pub async fn create() -> Self {
        let name = format!(
            "tv_e2e_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        admin(&format!("CREATE DATABASE {name}")).await;
        Self {
            url: with_database(&server_database_url(), &name),
            name,
        }
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls)
            .await
            .expect("connecting to the test database");
        tokio::spawn(connection);
        client
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop cannot await: a plain thread with its own runtime does it.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&server_database_url(), NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A service running in a task until its stop signal.
pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    fn spawn<F, Fut>(run: F) -> Self
    where
        F: FnOnce(oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel();
        Self {
            stop: Some(stop),
            task: tokio::spawn(run(stopped)),
        }
    }

    /// Stops it gracefully (bounded) and reports its error, if any.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(Duration::from_secs(15), &mut self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("a service stopped with an error: {e:#}"),
            Ok(Err(e)) => panic!("a service's task failed: {e}"),
            Err(_) => panic!("a service did not stop within 15 s"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The projector under `prefix`, writing to `database`.
pub async fn spawn_projector(prefix: &str, database: &Database) -> Running {
    let mut config = projector::Config::new(&crate::nats_url(), &database.url, prefix);
    config.fetch_wait_ms = 20;
    let projector = projector::Projector::build(config)
        .await
        .expect("the projector starts");
    Running::spawn(|stopped| {
        projector.run_until(async {
            let _ = stopped.await;
        })
    })
}

/// Partition `partition` (`k/N`) of the projector under `prefix`, writing to `database`: the
/// inventory shards of that partition, and catalog and orders on partition 0.
pub async fn spawn_projector_partition(
    prefix: &str,
    database: &Database,
    partition: &str,
) -> Running {
    let mut config = projector::Config::new(&crate::nats_url(), &database.url, prefix);
    config.fetch_wait_ms = 20;
    config.partition = partition.parse().expect("a partition k/N");
    let projector = projector::Projector::build(config)
        .await
        .expect("the projector starts");
    Running::spawn(|stopped| {
        projector.run_until(async {
            let _ = stopped.await;
        })
    })
}

/// query-svc under `prefix`, reading `database`, on a free port.
pub async fn spawn_query(prefix: &str, database: &Database) -> (Running, SocketAddr) {
    spawn_query_with(prefix, database, |_| {}).await
}

/// [`spawn_query`] with settings of the test's own (the web pages, the demo sign-in) set by
/// `configure`.
pub async fn spawn_query_with(
    prefix: &str,
    database: &Database,
    configure: impl FnOnce(&mut query_svc::Config),
) -> (Running, SocketAddr) {
    let mut config = query_svc::Config::for_test(&crate::nats_url(), &database.url, prefix);
    config.bind = "127.0.0.1:0".parse().expect("an address");
    config.pg_pool_size = 4;
    configure(&mut config);
    let app = query_svc::build(config).await.expect("query-svc starts");
    let addr = app.local_addr();
    let running = Running::spawn(|stopped| {
        app.run_until(async {
            let _ = stopped.await;
        })
    });
    (running, addr)
}

/// The notifier under `prefix`, with its outbox in `database`.
pub async fn spawn_notifier(prefix: &str, database: &Database) -> Running {
    spawn_notifier_with(prefix, database, |_| {}).await
}

/// [`spawn_notifier`] with settings of the test's own (mail, webhooks) set by `configure`.
pub async fn spawn_notifier_with(
    prefix: &str,
    database: &Database,
    configure: impl FnOnce(&mut notifier::Config),
) -> Running {
    let mut config = notifier::Config::new(&crate::nats_url(), &database.url, prefix);
    config.fetch_wait_ms = 50;
    configure(&mut config);
    let notifier = notifier::Notifier::build(config)
        .await
        .expect("the notifier starts");
    Running::spawn(|stopped| {
        notifier.run_until(async {
            let _ = stopped.await;
        })
    })
}

/// The projector, query-svc and the notifier of one test, on one database of its own.
pub struct ReadSide {
    pub database: Database,
    pub prefix: String,
    pub query_addr: SocketAddr,
    http: reqwest::Client,
    projector: Option<Running>,
    query: Option<Running>,
    notifier: Option<Running>,
}

impl ReadSide {
    pub async fn spawn(prefix: &str) -> Self {
        let database = Database::create().await;
        let projector = spawn_projector(prefix, &database).await;
        let (query, query_addr) = spawn_query(prefix, &database).await;
        let notifier = spawn_notifier(prefix, &database).await;
        Self {
            database,
            prefix: prefix.to_owned(),
            query_addr,
            http: crate::client::http_client(),
            projector: Some(projector),
            query: Some(query),
            notifier: Some(notifier),
        }
    }

    /// `GET <path>` from query-svc, as an operator (who may read every hold and order).
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.get_as(path, Some(&crate::client::operator_authorization()))
            .await
    }

    /// `GET <path>` from query-svc with this `Authorization` header, or none.
    pub async fn get_as(&self, path: &str, authorization: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.get(format!("http://{}{path}", self.query_addr));
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Polls `GET <path>` until `done` holds for its answer; panics with the last answer.
    pub async fn get_until(
        &self,
        path: &str,
        limit: Duration,
        done: impl Fn(StatusCode, &Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let (status, body) = self.get(path).await;
            if done(status, &body) {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "GET {path} never got there within {limit:?}: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The notifier's outbox rows of an order: `(id, kind)`, oldest first.
    pub async fn notifications(&self, order: &str) -> Vec<(String, String)> {
        let order: uuid::Uuid = order.parse().expect("an order id");
        self.database
            .client()
            .await
            .query(
                "SELECT id, kind FROM notifications WHERE order_id = $1 ORDER BY created_at, id",
                &[&order],
            )
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    /// Stops the notifier and starts a fresh one (same database, same durable consumer).
    pub async fn restart_notifier(&mut self) {
        if let Some(notifier) = self.notifier.take() {
            notifier.stop().await;
        }
        self.notifier = Some(spawn_notifier(&self.prefix, &self.database).await);
    }

    /// Stops the notifier only (to tamper with its consumer, say).
    pub async fn stop_notifier(&mut self) {
        if let Some(notifier) = self.notifier.take() {
            notifier.stop().await;
        }
    }

    /// Stops every service, gracefully; the database goes when the value does.
    pub async fn shutdown(mut self) {
        for running in [
            self.notifier.take(),
            self.query.take(),
            self.projector.take(),
        ]
        .into_iter()
        .flatten()
        {
            running.stop().await;
        }
    }
}

/// Deletes the durable consumer `name` of the ORDERS stream: the next consumer of that name
/// starts from the stream's first message again (a full redelivery).
pub async fn forget_consumer(store: &tv_nats::EventStore, name: &str) -> anyhow::Result<()> {
    let stream = store
        .jetstream()
        .get_stream(store.naming().stream(tv_nats::Stream::Orders))
        .await
        .context("the ORDERS stream")?;
    stream
        .delete_consumer(name)
        .await
        .context("deleting the consumer")?;
    Ok(())
}

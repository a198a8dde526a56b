//! The outbox in PostgreSQL: `notifications`, one row per notice, inserted once.

use crate::notice::Notification;
use crate::sink::{Sink, SinkError};
use async_trait::async_trait;
use deadpool_postgres::Pool;
use uuid::Uuid;

/// The notifier's own schema changes, applied in order at start.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "notifications",
        include_str!("../migrations/0001_notifications.sql"),
    ),
    (
        2,
        "waitlist_notices",
        include_str!("../migrations/0002_waitlist_notices.sql"),
    ),
    (
        3,
        "notice_deliveries",
        include_str!("../migrations/0003_notice_deliveries.sql"),
    ),
];

/// Serialises concurrent notifiers migrating one database ("tvnot" in ASCII).
const MIGRATION_LOCK: i64 = 0x0074_766e_6f74;

fn sink_error(context: &str, e: impl std::fmt::Display) -> SinkError {
    SinkError(format!("{context}: {e}"))
}

/// Applies the notifier's migrations not yet recorded (in `notifier_migrations`); returns the
/// versions applied now. Safe to run from several notifiers at once.
pub async fn migrate(pool: &Pool) -> Result<Vec<i32>, SinkError> {
    let mut client = pool.get().await.map_err(|e| sink_error("connecting", e))?;
    let tx = client
        .transaction()
        .await
        .map_err(|e| sink_error("migrating", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| sink_error("locking migrations", e))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS notifier_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(|e| sink_error("migrating", e))?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM notifier_migrations", &[])
        .await
        .map_err(|e| sink_error("migrating", e))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut now_applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tx.batch_execute(sql)
            .await
            .map_err(|e| sink_error(&format!("migration {version}"), e))?;
        tx.execute(
            "INSERT INTO notifier_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await
        .map_err(|e| sink_error("migrating", e))?;
        now_applied.push(*version);
    }
    tx.commit().await.map_err(|e| sink_error("migrating", e))?;
    Ok(now_applied)
}

/// Inserts notices into `notifications`; a notice whose id is there already is skipped. With each
/// notice stored for the first time, in the same statement, one row of `notice_deliveries` per
/// channel it goes out on (none when no channel is configured).
pub struct PostgresOutbox {
    pool: Pool,
    channels: Vec<String>,
}

impl PostgresOutbox {
    pub fn new(pool: Pool) -> Self {
        Self::with_channels(pool, Vec::new())
    }

    /// An outbox that queues every new notice on `channels` (`mail`, `webhook:<url>`).
    pub fn with_channels(pool: Pool, channels: Vec<String>) -> Self {
        Self { pool, channels }
    }
}

#[async_trait]
impl Sink for PostgresOutbox {
    async fn deliver(&self, notices: Vec<Notification>) -> Result<Vec<Notification>, SinkError> {
        if notices.is_empty() {
            return Ok(notices);
        }
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| sink_error("connecting", e))?;
        let statement = client
            .prepare_cached(
                "WITH stored AS (
                     INSERT INTO notifications (id, order_id, customer_id, kind, body, stream,
                         stream_sequence)
                     SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::text[],
                         $5::jsonb[], $6::text[], $7::int8[])
                     ON CONFLICT (id) DO NOTHING
                     RETURNING id
                 ), queued AS (
                     INSERT INTO notice_deliveries (notice_id, channel)
                     SELECT stored.id, channel FROM stored CROSS JOIN UNNEST($8::text[]) channel
                 )
                 SELECT id FROM stored",
            )
            .await
            .map_err(|e| sink_error("preparing the insert", e))?;
        let stored = client
            .query(
                &statement,
                &[
                    &notices.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
                    &notices
                        .iter()
                        .map(|n| n.order_id.map(|id| id.as_uuid()))
                        .collect::<Vec<Option<Uuid>>>(),
                    &notices
                        .iter()
                        .map(|n| n.customer_id.as_str())
                        .collect::<Vec<_>>(),
                    &notices.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(),
                    &notices.iter().map(|n| n.body.clone()).collect::<Vec<_>>(),
                    &notices.iter().map(|n| n.stream).collect::<Vec<_>>(),
                    &notices
                        .iter()
                        .map(|n| n.stream_sequence as i64)
                        .collect::<Vec<_>>(),
                    &self.channels,
                ],
            )
            .await
            .map_err(|e| sink_error("inserting notices", e))?;
        let fresh: std::collections::HashSet<String> =
            stored.iter().map(|row| row.get::<_, String>(0)).collect();
        Ok(notices
            .into_iter()
            .filter(|n| fresh.contains(&n.id))
            .collect())
    }
}

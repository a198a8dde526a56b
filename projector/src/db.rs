//! PostgreSQL: the connection pool and the versioned schema migrations.
//!
//! Migrations are the numbered files of `projector/migrations`, compiled in, applied in order at
//! start in one transaction under an advisory lock (so two projectors starting together apply them
//! once), and recorded in `schema_migrations`. query-svc never migrates: it only reads.

use crate::error::ProjectError;
use deadpool_postgres::{GenericClient, Pool};
use std::collections::BTreeMap;

/// A pool of connections to the read-model database (the kit's, as every service builds it).
pub use tv_kit::pg::pool;

/// One schema change, as a file `NNNN_name.sql`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. A new file must be added here too (a unit test checks it).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "read_models",
        sql: include_str!("../migrations/0001_read_models.sql"),
    },
    Migration {
        version: 2,
        name: "orders",
        sql: include_str!("../migrations/0002_orders.sql"),
    },
    Migration {
        version: 3,
        name: "shard_checkpoints",
        sql: include_str!("../migrations/0003_shard_checkpoints.sql"),
    },
    Migration {
        version: 4,
        name: "hold_status_words",
        sql: include_str!("../migrations/0004_hold_status_words.sql"),
    },
    Migration {
        version: 5,
        name: "waitlist",
        sql: include_str!("../migrations/0005_waitlist.sql"),
    },
    Migration {
        version: 6,
        name: "seat_maps",
        sql: include_str!("../migrations/0006_seat_maps.sql"),
    },
    Migration {
        version: 7,
        name: "tickets",
        sql: include_str!("../migrations/0007_tickets.sql"),
    },
    Migration {
        version: 8,
        name: "blocks",
        sql: include_str!("../migrations/0008_blocks.sql"),
    },
    Migration {
        version: 9,
        name: "event_presales",
        sql: include_str!("../migrations/0009_event_presales.sql"),
    },
];

/// Serialises concurrent migrators of one database ("tvmig" in ASCII).
const MIGRATION_LOCK: i64 = 0x0074_766d_6967;

/// Applies the migrations not yet recorded; returns the versions applied now.
pub async fn migrate(pool: &Pool) -> Result<Vec<i32>, ProjectError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS public.schema_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM public.schema_migrations", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut now_applied = Vec::new();
    for migration in MIGRATIONS {
        if applied.contains(&migration.version) {
            continue;
        }
        tx.batch_execute("SET LOCAL search_path TO public").await?;
        tx.batch_execute(migration.sql).await?;
        tx.execute(
            "INSERT INTO public.schema_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
        now_applied.push(migration.version);
    }
    tx.commit().await?;
    Ok(now_applied)
}

/// Creates every table of the schema, empty, inside `schema` (for `projector rebuild`): the same
/// files as the live schema, with `schema` first on the search path.
pub(crate) async fn create_schema_copy(
    client: &mut deadpool_postgres::Object,
    schema: &str,
) -> Result<(), ProjectError> {
    let tx = client.transaction().await?;
    tx.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema}"
    ))
    .await?;
    for migration in MIGRATIONS {
        tx.batch_execute(migration.sql).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Drops the secondary indexes of `tables` in `schema` (every index not backing a constraint) and
/// returns their definitions, for [`create_indexes`] once the
/// tables are loaded: building an index over loaded rows is much cheaper than maintaining it row
/// by row.
pub(crate) async fn drop_secondary_indexes(
    client: &impl GenericClient,
    schema: &str,
    tables: &[&str],
) -> Result<Vec<String>, ProjectError> {
    let rows = client
        .query(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i
             WHERE i.schemaname = $1 AND i.tablename = ANY($2)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                               WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
             ORDER BY i.indexname",
            &[&schema, &tables],
        )
        .await?;
    let mut definitions = Vec::with_capacity(rows.len());
    for row in rows {
        let name: &str = row.get(0);
        client
            .batch_execute(&format!("DROP INDEX {schema}.{name}"))
            .await?;
        definitions.push(row.get(1));
    }
    Ok(definitions)
}

/// Creates the indexes [`drop_secondary_indexes`] dropped (their definitions name the schema),
/// `parallel` at a time, each on a connection of its own from `pool`: an index build keeps one
/// core busy, so two of them use a second.
pub(crate) async fn create_indexes(
    pool: &Pool,
    definitions: &[String],
    parallel: usize,
) -> Result<(), ProjectError> {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut builds = tokio::task::JoinSet::new();
    for definition in definitions {
        let (pool, definition, permits) = (pool.clone(), definition.clone(), permits.clone());
        builds.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let client = pool.get().await?;
            client.batch_execute(&definition).await?;
            Ok::<_, ProjectError>(())
        });
    }
    while let Some(built) = builds.join_next().await {
        built.map_err(|e| ProjectError::Invariant(format!("an index build failed: {e}")))??;
    }
    Ok(())
}

/// The checkpoint of every shard of `projection` in `schema`, without locking them.
pub(crate) async fn read_checkpoints(
    client: &impl GenericClient,
    schema: &str,
    projection: &str,
) -> Result<BTreeMap<u16, u64>, ProjectError> {
    let rows = client
        .query(
            &format!(
                "SELECT shard, last_sequence FROM {schema}.projection_checkpoints
                 WHERE projection = $1 ORDER BY shard"
            ),
            &[&projection],
        )
        .await?;
    if rows.is_empty() {
        return Err(ProjectError::Schema(format!(
            "no checkpoint row for projection {projection}"
        )));
    }
    Ok(rows
        .iter()
        .map(|row| (row.get::<_, i32>(0) as u16, row.get::<_, i64>(1) as u64))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_registered_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATIONS.len(), "{files:?}");
        for (file, migration) in files.iter().zip(MIGRATIONS) {
            assert_eq!(
                *file,
                format!("{:04}_{}.sql", migration.version, migration.name)
            );
        }
    }
}

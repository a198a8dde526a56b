//! The inventory projection: availability per section, seat maps and holds.
//!
//! A batch is decoded, folded in memory into final per-row changes ([`fold`], pure and tested on
//! its own) and written with a handful of bulk statements ([`sql`]). The one thing the fold needs
//! from the tables is the stored status of the holds the batch ends without creating them, read
//! in one query first.

mod fold;
mod sql;
#[cfg(test)]
mod tests;

use super::{aggregate_id, decode, undecodable, Mode};
use crate::error::ProjectError;
use deadpool_postgres::Transaction;
use domain::inventory::InventoryEvent;
use fold::{holds_ended_before_created, Fold};
use read_model::rows::column;
use read_model::status::HoldStatus;
use read_model::tables::HOLDS;
use read_model::{Notice, Projection};
use std::collections::HashMap;
use tv_nats::{RawCommit, Stream};
use uuid::Uuid;

pub(super) use sql::compute_next_expiry;

pub(super) async fn apply(
    tx: &Transaction<'_>,
    schema: &str,
    commits: &[RawCommit],
    mode: Mode,
) -> Result<(usize, Notice), ProjectError> {
    let started = std::time::Instant::now();
    let mut decoded = Vec::with_capacity(commits.len());
    let mut events = 0;
    for raw in commits {
        let commit = decode::<InventoryEvent>(Stream::Inventory, raw)?;
        let event_id: Uuid = aggregate_id(&raw.subject).parse().map_err(|e| {
            undecodable(
                Stream::Inventory,
                raw,
                format!("subject {}: {e}", raw.subject),
            )
        })?;
        events += commit.events.len();
        decoded.push((
            event_id,
            raw.sequence as i64,
            commit.recorded_at,
            commit.events,
        ));
    }

    let decoding = started.elapsed();
    let preload = holds_ended_before_created(&decoded);
    let mut stored = HashMap::new();
    if !preload.is_empty() {
        let statement = tx
            .prepare_cached(&format!(
                "SELECT hold_id, status FROM {schema}.{HOLDS} WHERE hold_id = ANY($1::text[])"
            ))
            .await?;
        for row in tx.query(&statement, &[&preload]).await? {
            let status = column(HOLDS, "status", row.get(1), |w| {
                HoldStatus::parse(w).ok_or(())
            })
            .map_err(|e| ProjectError::Invariant(e.to_string()))?;
            stored.insert(row.get(0), status);
        }
    }
    let mut fold = Fold::new(stored);
    for (event_id, version, recorded_at, batch_events) in decoded {
        for event in batch_events {
            fold.apply(event_id, version, recorded_at, event);
        }
    }

    let folding = started.elapsed() - decoding;
    sql::write_opened(tx, schema, &fold).await?;
    sql::write_holds(tx, schema, &fold, mode).await?;
    let returned = sql::write_returned(tx, schema, &fold).await?;
    let holds_written = started.elapsed();
    sql::write_seat_maps(tx, schema, &fold).await?;
    let maps_written = started.elapsed();
    let availability = sql::write_availability(tx, schema, &fold, mode).await?;
    tracing::debug!(
        commits = commits.len(),
        events,
        decode_ms = decoding.as_millis() as u64,
        fold_ms = folding.as_millis() as u64,
        holds_ms = (holds_written - decoding - folding).as_millis() as u64,
        seat_maps_ms = (maps_written - holds_written).as_millis() as u64,
        availability_ms = (started.elapsed() - maps_written).as_millis() as u64,
        "inventory batch"
    );

    // A rebuild's bulk publishes no notice: no need to list its (many) holds.
    let mut holds: Vec<String> = match mode {
        Mode::Incremental => fold
            .new_holds
            .keys()
            .chain(fold.hold_changes.keys())
            .cloned()
            .chain(returned)
            .collect(),
        Mode::Bulk => Vec::new(),
    };
    holds.sort();
    holds.dedup();
    Ok((
        events,
        Notice {
            projection: Projection::Inventory.as_str().into(),
            availability,
            holds,
            ..Notice::default()
        },
    ))
}

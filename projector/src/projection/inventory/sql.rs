//! The inventory projection's SQL: a folded batch ([`super::fold::Fold`]) written with a handful
//! of bulk statements, each one round trip whatever the batch size: insert opened sections and
//! seats, insert new holds, update ended holds (and returned ones by their order), update seats,
//! and update availability (deltas, version, and `next_expiry` recomputed from the pending holds)
//! returning the new rows for the change notice.

use super::fold::{Fold, HoldChange, NewHold, SeatChange, SectionDelta, SectionKey};
use crate::error::ProjectError;
use crate::projection::Mode;
use deadpool_postgres::Transaction;
use read_model::status::{HoldStatus, PENDING_HOLD_WORDS};
use read_model::tables::{AVAILABILITY, HOLDS, SEATS};
use read_model::{AvailabilityRow, Version};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

/// Inserts opened sections and seats; the seats also changed by the batch leave `fold.seats`.
pub(super) async fn write_opened(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &mut Fold,
    mode: Mode,
) -> Result<(), ProjectError> {
    if !fold.opened.is_empty() {
        let o = &fold.opened;
        let statement = tx
            .prepare_cached(&format!(
                "INSERT INTO {schema}.{AVAILABILITY}
                     (event_id, section_id, ordinal, seated, capacity, held, sold, next_expiry, version)
                 SELECT e, s, o, st, c, 0, 0, NULL, v
                 FROM UNNEST($1::uuid[], $2::text[], $3::int4[], $4::bool[], $5::int4[], $6::int8[])
                     AS d(e, s, o, st, c, v)
                 ON CONFLICT (event_id, section_id) DO NOTHING"
            ))
            .await?;
        tx.execute(
            &statement,
            &[
                &o.iter().map(|s| s.event_id).collect::<Vec<_>>(),
                &o.iter().map(|s| s.section_id.as_str()).collect::<Vec<_>>(),
                &o.iter().map(|s| s.ordinal).collect::<Vec<_>>(),
                &o.iter().map(|s| s.seated).collect::<Vec<_>>(),
                &o.iter().map(|s| s.capacity).collect::<Vec<_>>(),
                &o.iter().map(|s| s.version).collect::<Vec<_>>(),
            ],
        )
        .await?;
    }
    if fold.opened_seats.is_empty() {
        return Ok(());
    }
    // A seat opened and changed in the same batch is inserted as changed (its update would
    // set exactly the changed columns, and still does if the seat already existed).
    let mut plain = Vec::new();
    let mut changed = Vec::new();
    for seat in &fold.opened_seats {
        let key = (seat.event_id, seat.section_id.clone(), seat.seat.clone());
        match fold.seats.remove(&key) {
            Some(change) => changed.push((seat, change)),
            None => plain.push(seat),
        }
    }
    let insert = format!(
        "INSERT INTO {schema}.{SEATS} (event_id, section_id, seat, row_ordinal, number, status, version)
         SELECT e, s, seat, r, n, 'available', v
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int4[], $5::int4[], $6::int8[])
             AS d(e, s, seat, r, n, v)"
    );
    // One statement per chunk keeps a 200 000-seat event's arrays at a sane size.
    for chunk in plain.chunks(50_000) {
        insert_rows(
            tx,
            mode,
            &insert,
            "ON CONFLICT (event_id, section_id, seat) DO NOTHING",
            &[
                &chunk.iter().map(|s| s.event_id).collect::<Vec<_>>(),
                &chunk
                    .iter()
                    .map(|s| s.section_id.as_str())
                    .collect::<Vec<_>>(),
                &chunk.iter().map(|s| s.seat.as_str()).collect::<Vec<_>>(),
                &chunk.iter().map(|s| s.row_ordinal).collect::<Vec<_>>(),
                &chunk.iter().map(|s| s.number).collect::<Vec<_>>(),
                &chunk.iter().map(|s| s.version).collect::<Vec<_>>(),
            ],
        )
        .await?;
    }
    let insert = format!(
        "INSERT INTO {schema}.{SEATS} (event_id, section_id, seat, row_ordinal, number, status,
             hold_id, order_id, hold_expires_at, version)
         SELECT e, s, seat, r, n, status, h, o, x, v
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int4[], $5::int4[], $6::text[],
             $7::text[], $8::uuid[], $9::timestamptz[], $10::int8[])
             AS d(e, s, seat, r, n, status, h, o, x, v)"
    );
    for chunk in changed.chunks(50_000) {
        insert_rows(
            tx,
            mode,
            &insert,
            "ON CONFLICT (event_id, section_id, seat) DO UPDATE
                 SET status = EXCLUDED.status, hold_id = EXCLUDED.hold_id,
                     order_id = EXCLUDED.order_id, hold_expires_at = EXCLUDED.hold_expires_at,
                     version = EXCLUDED.version",
            &[
                &chunk.iter().map(|(s, _)| s.event_id).collect::<Vec<_>>(),
                &chunk
                    .iter()
                    .map(|(s, _)| s.section_id.as_str())
                    .collect::<Vec<_>>(),
                &chunk
                    .iter()
                    .map(|(s, _)| s.seat.as_str())
                    .collect::<Vec<_>>(),
                &chunk.iter().map(|(s, _)| s.row_ordinal).collect::<Vec<_>>(),
                &chunk.iter().map(|(s, _)| s.number).collect::<Vec<_>>(),
                &chunk
                    .iter()
                    .map(|(_, c)| c.status.as_str())
                    .collect::<Vec<_>>(),
                &chunk
                    .iter()
                    .map(|(_, c)| c.hold_id.as_deref())
                    .collect::<Vec<_>>(),
                &chunk.iter().map(|(_, c)| c.order_id).collect::<Vec<_>>(),
                &chunk.iter().map(|(_, c)| c.expires_at).collect::<Vec<_>>(),
                &chunk.iter().map(|(_, c)| c.version).collect::<Vec<_>>(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Runs `insert` with `on_conflict`, the upsert that makes it safe to write a row twice. In
/// [`Mode::Bulk`] it first tries without `on_conflict`, which costs PostgreSQL about half as much,
/// and upserts only should a row exist after all (a savepoint undoes the failed attempt).
async fn insert_rows(
    tx: &Transaction<'_>,
    mode: Mode,
    insert: &str,
    on_conflict: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<(), ProjectError> {
    if mode == Mode::Bulk {
        let plain = tx.prepare_cached(insert).await?;
        tx.batch_execute("SAVEPOINT bulk_insert").await?;
        match tx.execute(&plain, params).await {
            Ok(_) => {
                tx.batch_execute("RELEASE SAVEPOINT bulk_insert").await?;
                return Ok(());
            }
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT bulk_insert")
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let upsert = tx
        .prepare_cached(&format!("{insert} {on_conflict}"))
        .await?;
    tx.execute(&upsert, params).await?;
    Ok(())
}

pub(super) async fn write_holds(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &Fold,
    mode: Mode,
) -> Result<(), ProjectError> {
    if !fold.new_holds.is_empty() {
        let h: Vec<(&String, &NewHold)> = fold.new_holds.iter().collect();
        let insert = format!(
            "INSERT INTO {schema}.{HOLDS} (hold_id, event_id, section_id, customer_id, seats, quantity,
                 expires_at, status, order_id, created_at, version)
             SELECT h, e, s, c, string_to_array(st, ','), q, x, status, o, ca, v
             FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int4[],
                 $7::timestamptz[], $8::text[], $9::uuid[], $10::timestamptz[], $11::int8[])
                 AS d(h, e, s, c, st, q, x, status, o, ca, v)"
        );
        insert_rows(
            tx,
            mode,
            &insert,
            "ON CONFLICT (hold_id) DO UPDATE
                 SET status = EXCLUDED.status, order_id = EXCLUDED.order_id, version = EXCLUDED.version",
            &[
                &h.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
                &h.iter().map(|(_, n)| n.event_id).collect::<Vec<_>>(),
                &h.iter()
                    .map(|(_, n)| n.section_id.as_str())
                    .collect::<Vec<_>>(),
                &h.iter()
                    .map(|(_, n)| n.customer_id.as_str())
                    .collect::<Vec<_>>(),
                &h.iter().map(|(_, n)| n.seats.as_str()).collect::<Vec<_>>(),
                &h.iter().map(|(_, n)| n.quantity).collect::<Vec<_>>(),
                &h.iter().map(|(_, n)| n.expires_at).collect::<Vec<_>>(),
                &h.iter().map(|(_, n)| n.status.as_str()).collect::<Vec<_>>(),
                &h.iter().map(|(_, n)| n.order_id).collect::<Vec<_>>(),
                &h.iter().map(|(_, n)| n.created_at).collect::<Vec<_>>(),
                &h.iter().map(|(_, n)| n.version).collect::<Vec<_>>(),
            ],
        )
        .await?;
    }
    if !fold.hold_changes.is_empty() {
        let c: Vec<(&String, &HoldChange)> = fold.hold_changes.iter().collect();
        let statement = tx
            .prepare_cached(&format!(
                "UPDATE {schema}.{HOLDS} h
                 SET status = d.status, order_id = COALESCE(d.order_id, h.order_id), version = d.version
                 FROM UNNEST($1::text[], $2::text[], $3::uuid[], $4::int8[]) AS d(hold_id, status, order_id, version)
                 WHERE h.hold_id = d.hold_id"
            ))
            .await?;
        tx.execute(
            &statement,
            &[
                &c.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
                &c.iter().map(|(_, h)| h.status.as_str()).collect::<Vec<_>>(),
                &c.iter().map(|(_, h)| h.order_id).collect::<Vec<_>>(),
                &c.iter().map(|(_, h)| h.version).collect::<Vec<_>>(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Holds sold before this batch whose seats it returned, found by their order: `returned`.
/// Returns their ids, for the change notice.
pub(super) async fn write_returned(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &Fold,
) -> Result<Vec<String>, ProjectError> {
    if fold.returned.is_empty() {
        return Ok(Vec::new());
    }
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE {schema}.{HOLDS} h SET status = '{returned}', version = d.version
             FROM UNNEST($1::uuid[], $2::int8[]) AS d(order_id, version)
             WHERE h.order_id = d.order_id AND h.status = '{sold}'
             RETURNING h.hold_id",
            returned = HoldStatus::Returned.as_str(),
            sold = HoldStatus::Sold.as_str(),
        ))
        .await?;
    let rows = tx
        .query(
            &statement,
            &[
                &fold.returned.keys().copied().collect::<Vec<_>>(),
                &fold.returned.values().copied().collect::<Vec<_>>(),
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(super) async fn write_seats(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &Fold,
) -> Result<(), ProjectError> {
    if fold.seats.is_empty() {
        return Ok(());
    }
    let s: Vec<(&(Uuid, String, String), &SeatChange)> = fold.seats.iter().collect();
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE {schema}.{SEATS} t
             SET status = d.status, hold_id = d.hold_id, order_id = d.order_id,
                 hold_expires_at = d.expires_at, version = d.version
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                 $7::timestamptz[], $8::int8[])
                 AS d(event_id, section_id, seat, status, hold_id, order_id, expires_at, version)
             WHERE t.event_id = d.event_id AND t.section_id = d.section_id AND t.seat = d.seat"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &s.iter().map(|(k, _)| k.0).collect::<Vec<_>>(),
            &s.iter().map(|(k, _)| k.1.as_str()).collect::<Vec<_>>(),
            &s.iter().map(|(k, _)| k.2.as_str()).collect::<Vec<_>>(),
            &s.iter().map(|(_, c)| c.status.as_str()).collect::<Vec<_>>(),
            &s.iter()
                .map(|(_, c)| c.hold_id.as_deref())
                .collect::<Vec<_>>(),
            &s.iter().map(|(_, c)| c.order_id).collect::<Vec<_>>(),
            &s.iter().map(|(_, c)| c.expires_at).collect::<Vec<_>>(),
            &s.iter().map(|(_, c)| c.version).collect::<Vec<_>>(),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn write_availability(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &Fold,
    mode: Mode,
) -> Result<Vec<AvailabilityRow>, ProjectError> {
    if fold.sections.is_empty() {
        return Ok(Vec::new());
    }
    let d: Vec<(&SectionKey, &SectionDelta)> = fold.sections.iter().collect();
    // next_expiry is recomputed from the pending (active or checked-out) holds of each touched
    // section (an index-only min over holds_pending_expiry_idx), after the holds were written
    // above (or by compute_next_expiry, once a rebuild's bulk is written).
    let next_expiry = match mode {
        Mode::Incremental => format!(", next_expiry = ({})", next_expiry_of_a(schema)),
        Mode::Bulk => String::new(),
    };
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE {schema}.{AVAILABILITY} a
             SET held = a.held + d.held, sold = a.sold + d.sold, version = d.version{next_expiry}
             FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::int8[], $5::int8[])
                 AS d(event_id, section_id, held, sold, version)
             WHERE a.event_id = d.event_id AND a.section_id = d.section_id
             RETURNING a.event_id, a.section_id, a.ordinal, a.seated, a.capacity, a.held, a.sold,
                 a.next_expiry, a.version"
        ))
        .await?;
    let rows = tx
        .query(
            &statement,
            &[
                &d.iter().map(|(k, _)| k.0).collect::<Vec<_>>(),
                &d.iter().map(|(k, _)| k.1.as_str()).collect::<Vec<_>>(),
                &d.iter().map(|(_, c)| c.held).collect::<Vec<_>>(),
                &d.iter().map(|(_, c)| c.sold).collect::<Vec<_>>(),
                &d.iter().map(|(_, c)| c.version).collect::<Vec<_>>(),
            ],
        )
        .await?;
    if rows.len() != d.len() {
        return Err(ProjectError::Invariant(format!(
            "{} sections changed but only {} exist (a fact about a section never opened)",
            d.len(),
            rows.len()
        )));
    }
    Ok(rows
        .iter()
        .map(|row| AvailabilityRow {
            event_id: row.get(0),
            section_id: row.get(1),
            ordinal: row.get(2),
            seated: row.get(3),
            capacity: i64::from(row.get::<_, i32>(4)),
            held: i64::from(row.get::<_, i32>(5)),
            sold: i64::from(row.get::<_, i32>(6)),
            next_expiry: row.get(7),
            version: Version::from_sql(row.get(8)),
        })
        .collect())
}

/// The earliest expiry of the pending holds of availability row `a`'s section.
fn next_expiry_of_a(schema: &str) -> String {
    format!(
        "SELECT min(h.expires_at) FROM {schema}.{HOLDS} h
         WHERE h.event_id = a.event_id AND h.section_id = a.section_id
           AND h.status IN ({PENDING_HOLD_WORDS})"
    )
}

/// Sets `next_expiry` of every section from the holds: what the batches applied with
/// [`Mode::Bulk`] left out. Every change of a section's pending holds touches the section,
/// so a batch recomputing it leaves the same value as this.
pub(in crate::projection) async fn compute_next_expiry(
    client: &impl deadpool_postgres::GenericClient,
    schema: &str,
) -> Result<(), ProjectError> {
    client
        .batch_execute(&format!(
            "UPDATE {schema}.{AVAILABILITY} a SET next_expiry = ({})",
            next_expiry_of_a(schema)
        ))
        .await?;
    Ok(())
}

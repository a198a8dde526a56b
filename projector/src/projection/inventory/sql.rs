//! The inventory projection's SQL: a folded batch ([`super::fold::Fold`]) written with a handful
//! of bulk statements, each one round trip whatever the batch size: insert opened sections, insert
//! new holds, update ended holds (and returned ones by their order), read and rewrite the seat
//! maps the batch changed (one row per section, inserted when opened), and update availability (deltas, version, and `next_expiry` recomputed from the pending holds)
//! returning the new rows for the change notice.

use super::fold::{Fold, HoldChange, NewHold, SectionDelta, SectionKey};
use crate::error::ProjectError;
use crate::projection::Mode;
use deadpool_postgres::Transaction;
use read_model::seat_map::{Cells, Layout};
use read_model::status::{HoldStatus, PENDING_HOLD_WORDS};
use read_model::tables::{AVAILABILITY, HOLDS, SEAT_MAPS};
use read_model::{AvailabilityRow, Version};
use std::collections::{BTreeMap, BTreeSet};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

/// Inserts opened sections (their seat maps are [`write_seat_maps`]'s).
pub(super) async fn write_opened(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &Fold,
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
    // A rebuild's bulk copies them; the live loop, or a copy that met an existing hold, inserts.
    let copied =
        !fold.new_holds.is_empty() && mode == Mode::Bulk && copy_holds(tx, schema, fold).await?;
    if !fold.new_holds.is_empty() && !copied {
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

/// Copies the batch's new holds into a rebuild's bare table ([`Mode::Bulk`]) with one binary
/// `COPY`: no statement to plan, no arrays to build and unnest. Returns false, having undone the
/// attempt, should one of them exist already (the caller upserts them instead).
async fn copy_holds(tx: &Transaction<'_>, schema: &str, fold: &Fold) -> Result<bool, ProjectError> {
    tx.batch_execute("SAVEPOINT bulk_copy").await?;
    match copy_holds_in(tx, schema, fold).await {
        Ok(()) => {
            tx.batch_execute("RELEASE SAVEPOINT bulk_copy").await?;
            Ok(true)
        }
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT bulk_copy").await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

async fn copy_holds_in(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &Fold,
) -> Result<(), tokio_postgres::Error> {
    let sink = tx
        .copy_in(&format!(
            "COPY {schema}.{HOLDS} (hold_id, event_id, section_id, customer_id, seats, quantity,
                 expires_at, status, order_id, created_at, version)
             FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::TEXT,
            Type::UUID,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT_ARRAY,
            Type::INT4,
            Type::TIMESTAMPTZ,
            Type::TEXT,
            Type::UUID,
            Type::TIMESTAMPTZ,
            Type::INT8,
        ],
    );
    futures::pin_mut!(writer);
    for (id, h) in &fold.new_holds {
        let seats: Vec<&str> = if h.seats.is_empty() {
            Vec::new()
        } else {
            h.seats.split(',').collect()
        };
        writer
            .as_mut()
            .write(&[
                id,
                &h.event_id,
                &h.section_id,
                &h.customer_id,
                &seats,
                &h.quantity,
                &h.expires_at,
                &h.status.as_str(),
                &h.order_id,
                &h.created_at,
                &h.version,
            ])
            .await?;
    }
    writer.finish().await?;
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

/// A seat map as the batch leaves it.
struct MapWrite {
    layout: Layout,
    cells: Cells,
    version: i64,
    /// Whether the row exists (updated) or the batch opened it (inserted).
    stored: bool,
}

/// Writes the seat maps the batch opened or changed, each a whole row: the stored maps of the
/// sections it touches are read in one statement (locked for the rest of the transaction), their
/// seats set in memory, and written back in one statement; maps it opened are inserted. A map
/// that exists already is kept as stored (an opening applied twice changes nothing), and a seat
/// that no map has is not written, as an update that matches no row.
pub(super) async fn write_seat_maps(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &Fold,
) -> Result<(), ProjectError> {
    if fold.opened_maps.is_empty() && fold.seats.is_empty() {
        return Ok(());
    }
    let mut touched: Vec<(Uuid, &str)> = fold
        .opened_maps
        .iter()
        .map(|m| (m.event_id, m.section_id.as_str()))
        .chain(fold.seats.keys().map(|(e, s, _)| (*e, s.as_str())))
        .collect();
    touched.sort_unstable();
    touched.dedup();
    let statement = tx
        .prepare_cached(&format!(
            "SELECT m.event_id, m.section_id, m.row_labels, m.row_seats, m.statuses,
                 m.hold_expiries, m.version
             FROM {schema}.{SEAT_MAPS} m
             JOIN UNNEST($1::uuid[], $2::text[]) AS d(event_id, section_id)
                 ON m.event_id = d.event_id AND m.section_id = d.section_id
             FOR UPDATE OF m"
        ))
        .await?;
    let rows = tx
        .query(
            &statement,
            &[
                &touched.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
                &touched.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
            ],
        )
        .await?;
    let mut maps: BTreeMap<SectionKey, MapWrite> = BTreeMap::new();
    for row in rows {
        let cells = Cells::decode(row.get(4), row.get(5))
            .map_err(|e| ProjectError::Invariant(e.to_string()))?;
        maps.insert(
            (row.get(0), row.get(1)),
            MapWrite {
                layout: Layout {
                    row_labels: row.get(2),
                    row_seats: row.get(3),
                },
                cells,
                version: row.get(6),
                stored: true,
            },
        );
    }
    for opened in &fold.opened_maps {
        maps.entry((opened.event_id, opened.section_id.clone()))
            .or_insert_with(|| MapWrite {
                cells: Cells::available(opened.layout.len()),
                layout: opened.layout.clone(),
                version: opened.version,
                stored: false,
            });
    }
    let mut changed = BTreeSet::new();
    for ((event_id, section_id, seat), change) in &fold.seats {
        let key = (*event_id, section_id.clone());
        let Some(map) = maps.get_mut(&key) else {
            continue;
        };
        let Some(index) = map.layout.index_of_label(seat) else {
            continue;
        };
        map.cells.set(index, change.status, change.expires_at);
        map.version = map.version.max(change.version);
        changed.insert(key);
    }

    let inserted: Vec<(&SectionKey, &MapWrite)> = maps.iter().filter(|(_, m)| !m.stored).collect();
    if !inserted.is_empty() {
        let insert = tx
            .prepare_cached(&format!(
                "INSERT INTO {schema}.{SEAT_MAPS}
                     (event_id, section_id, row_labels, row_seats, statuses, hold_expiries, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ))
            .await?;
        // Pipelined on the one connection: a round trip for all of them.
        let insert = &insert;
        futures::future::try_join_all(inserted.iter().map(
            |((event_id, section_id), m)| async move {
                let (statuses, expiries) = (m.cells.statuses(), m.cells.expiries());
                tx.execute(
                    insert,
                    &[
                        event_id,
                        section_id,
                        &m.layout.row_labels,
                        &m.layout.row_seats,
                        &statuses,
                        &expiries,
                        &m.version,
                    ],
                )
                .await
            },
        ))
        .await?;
    }
    let updated: Vec<(&SectionKey, &MapWrite)> = maps
        .iter()
        .filter(|(key, m)| m.stored && changed.contains(*key))
        .collect();
    if !updated.is_empty() {
        let statement = tx
            .prepare_cached(&format!(
                "UPDATE {schema}.{SEAT_MAPS} m
                 SET statuses = d.statuses, hold_expiries = d.hold_expiries, version = d.version
                 FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::int8[])
                     AS d(event_id, section_id, statuses, hold_expiries, version)
                 WHERE m.event_id = d.event_id AND m.section_id = d.section_id"
            ))
            .await?;
        tx.execute(
            &statement,
            &[
                &updated.iter().map(|(k, _)| k.0).collect::<Vec<_>>(),
                &updated
                    .iter()
                    .map(|(k, _)| k.1.as_str())
                    .collect::<Vec<_>>(),
                &updated
                    .iter()
                    .map(|(_, m)| m.cells.statuses())
                    .collect::<Vec<_>>(),
                &updated
                    .iter()
                    .map(|(_, m)| m.cells.expiries())
                    .collect::<Vec<_>>(),
                &updated.iter().map(|(_, m)| m.version).collect::<Vec<_>>(),
            ],
        )
        .await?;
    }
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
             SET held = a.held + d.held, sold = a.sold + d.sold, blocked = a.blocked + d.blocked,
                 version = d.version{next_expiry}
             FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[])
                 AS d(event_id, section_id, held, sold, version, blocked)
             WHERE a.event_id = d.event_id AND a.section_id = d.section_id
             RETURNING a.event_id, a.section_id, a.ordinal, a.seated, a.capacity, a.held, a.sold,
                 a.next_expiry, a.version, a.blocked"
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
                &d.iter().map(|(_, c)| c.blocked).collect::<Vec<_>>(),
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
            blocked: i64::from(row.get::<_, i32>(9)),
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

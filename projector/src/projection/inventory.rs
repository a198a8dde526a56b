//! The inventory projection: availability per section, seat maps and holds.
//!
//! Every inventory fact that takes or frees seats names them (empty for general admission) and
//! the quantity, so a batch folds into final per-row changes in memory with no history, except one
//! thing: whether a hold was still pending (active, or checked out into an order and unpaid) when
//! it ended (a hold sold after it expired was already subtracted from `held` by its
//! `HoldExpired`). The statuses of the holds a batch ends but did not create are read in one query
//! first. A checkout changes no seat and no count: the hold becomes `checked_out` and stays held
//! until it is sold, released by its order, or expires.
//!
//! Then a handful of bulk statements, each one round trip whatever the batch size: insert opened
//! sections and seats, insert new holds, update ended holds, update seats, and update availability
//! (deltas, version, and `next_expiry` recomputed from the active holds) returning the new rows
//! for the change notice.

use super::{aggregate_id, undecodable, Mode};
use crate::error::ProjectError;
use crate::notice::{AvailabilityRow, Notice};
use deadpool_postgres::Transaction;
use domain::catalog::SectionLayout;
use domain::inventory::InventoryEvent;
use std::collections::{BTreeMap, HashMap, HashSet};
use time::OffsetDateTime;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tv_nats::{RawCommit, Stream};
use uuid::Uuid;

/// A hold's status as stored in `holds.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldStatus {
    Active,
    Released,
    Expired,
    /// Checked out into an order being paid: its seats are still held, and it still expires at
    /// `expires_at` unless sold (query-svc shows it as `ordered`).
    CheckedOut,
    /// Sold to its order (`ordered` in the API).
    Ordered,
}

impl HoldStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Released => "released",
            Self::Expired => "expired",
            Self::CheckedOut => "checked_out",
            Self::Ordered => "ordered",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "released" => Self::Released,
            "expired" => Self::Expired,
            "checked_out" => Self::CheckedOut,
            "ordered" => Self::Ordered,
            _ => Self::Active,
        }
    }

    /// Active or checked out: the hold's seats still count in `held`.
    fn is_pending(self) -> bool {
        matches!(self, Self::Active | Self::CheckedOut)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeatStatus {
    Available,
    Held,
    Sold,
}

impl SeatStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Held => "held",
            Self::Sold => "sold",
        }
    }
}

type SectionKey = (Uuid, String);

struct OpenedSection {
    event_id: Uuid,
    section_id: String,
    ordinal: i32,
    seated: bool,
    capacity: i32,
    version: i64,
}

struct OpenedSeat {
    event_id: Uuid,
    section_id: String,
    seat: String,
    row_ordinal: i32,
    number: i32,
    version: i64,
}

#[derive(Default)]
struct SectionDelta {
    held: i64,
    sold: i64,
    version: i64,
}

struct SeatChange {
    status: SeatStatus,
    hold_id: Option<String>,
    order_id: Option<Uuid>,
    expires_at: Option<OffsetDateTime>,
    version: i64,
}

struct NewHold {
    event_id: Uuid,
    section_id: String,
    customer_id: String,
    seats: String,
    quantity: i32,
    expires_at: OffsetDateTime,
    status: HoldStatus,
    order_id: Option<Uuid>,
    created_at: OffsetDateTime,
    version: i64,
}

struct HoldChange {
    status: HoldStatus,
    order_id: Option<Uuid>,
    version: i64,
}

/// A batch folded into final per-row changes.
#[derive(Default)]
struct Fold {
    opened: Vec<OpenedSection>,
    opened_seats: Vec<OpenedSeat>,
    sections: BTreeMap<SectionKey, SectionDelta>,
    seats: BTreeMap<(Uuid, String, String), SeatChange>,
    new_holds: BTreeMap<String, NewHold>,
    hold_changes: BTreeMap<String, HoldChange>,
    /// The status of every hold the fold has seen so far (loaded or created).
    hold_status: HashMap<String, HoldStatus>,
}

impl Fold {
    fn touch_section(
        &mut self,
        event_id: Uuid,
        section_id: &str,
        held: i64,
        sold: i64,
        version: i64,
    ) {
        let delta = self
            .sections
            .entry((event_id, section_id.to_owned()))
            .or_default();
        delta.held += held;
        delta.sold += sold;
        delta.version = version;
    }

    #[allow(clippy::too_many_arguments)]
    fn set_seats(
        &mut self,
        event_id: Uuid,
        section_id: &str,
        seats: &[domain::ids::SeatLabel],
        status: SeatStatus,
        hold_id: Option<&str>,
        order_id: Option<Uuid>,
        expires_at: Option<OffsetDateTime>,
        version: i64,
    ) {
        for seat in seats {
            self.seats.insert(
                (event_id, section_id.to_owned(), seat.to_string()),
                SeatChange {
                    status,
                    hold_id: hold_id.map(str::to_owned),
                    order_id,
                    expires_at,
                    version,
                },
            );
        }
    }

    /// Ends a hold; returns whether it was pending until now (active or checked out, and so still
    /// counted in `held`). A hold the projection never saw is taken as pending: the fact says it
    /// was live.
    fn end_hold(
        &mut self,
        hold_id: &str,
        status: HoldStatus,
        order_id: Option<Uuid>,
        version: i64,
    ) -> bool {
        self.set_hold(hold_id, status, order_id, version)
            .is_none_or(HoldStatus::is_pending)
    }

    /// Gives a hold a new status (and its order, once known); returns the status it had, if the
    /// fold knows it.
    fn set_hold(
        &mut self,
        hold_id: &str,
        status: HoldStatus,
        order_id: Option<Uuid>,
        version: i64,
    ) -> Option<HoldStatus> {
        let before = self.hold_status.insert(hold_id.to_owned(), status);
        if let Some(new) = self.new_holds.get_mut(hold_id) {
            new.status = status;
            new.order_id = order_id.or(new.order_id);
            new.version = version;
        } else {
            let change = self
                .hold_changes
                .entry(hold_id.to_owned())
                .or_insert(HoldChange {
                    status,
                    order_id: None,
                    version,
                });
            change.status = status;
            change.order_id = order_id.or(change.order_id);
            change.version = version;
        }
        before
    }

    fn apply(
        &mut self,
        event_id: Uuid,
        version: i64,
        recorded_at: OffsetDateTime,
        event: InventoryEvent,
    ) {
        match event {
            InventoryEvent::InventoryOpened { sections, .. } => {
                for (ordinal, section) in sections.iter().enumerate() {
                    let section_id = section.section_id.to_string();
                    let (seated, capacity) = match &section.layout {
                        SectionLayout::Seated { rows } => {
                            for (row_ordinal, row) in rows.iter().enumerate() {
                                for number in 1..=row.seats {
                                    self.opened_seats.push(OpenedSeat {
                                        event_id,
                                        section_id: section_id.clone(),
                                        seat: format!("{}-{}", row.row, number),
                                        row_ordinal: row_ordinal as i32,
                                        number: number as i32,
                                        version,
                                    });
                                }
                            }
                            (true, rows.iter().map(|r| r.seats).sum::<u32>())
                        }
                        SectionLayout::GeneralAdmission { capacity } => (false, *capacity),
                    };
                    self.opened.push(OpenedSection {
                        event_id,
                        section_id: section_id.clone(),
                        ordinal: ordinal as i32,
                        seated,
                        capacity: capacity as i32,
                        version,
                    });
                    self.touch_section(event_id, &section_id, 0, 0, version);
                }
            }
            InventoryEvent::SeatsHeld {
                hold_id,
                customer_id,
                section_id,
                seats,
                quantity,
                expires_at,
                ..
            } => {
                let hold_id = hold_id.to_string();
                let section_id = section_id.to_string();
                self.hold_status.insert(hold_id.clone(), HoldStatus::Active);
                self.new_holds.insert(
                    hold_id.clone(),
                    NewHold {
                        event_id,
                        section_id: section_id.clone(),
                        customer_id: customer_id.to_string(),
                        seats: seats
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(","),
                        quantity: quantity as i32,
                        expires_at,
                        status: HoldStatus::Active,
                        order_id: None,
                        created_at: recorded_at,
                        version,
                    },
                );
                self.touch_section(event_id, &section_id, i64::from(quantity), 0, version);
                self.set_seats(
                    event_id,
                    &section_id,
                    &seats,
                    SeatStatus::Held,
                    Some(&hold_id),
                    None,
                    Some(expires_at),
                    version,
                );
            }
            InventoryEvent::HoldReleased {
                hold_id,
                section_id,
                seats,
                quantity,
                ..
            } => self.free_hold(
                event_id,
                &hold_id.to_string(),
                &section_id.to_string(),
                &seats,
                quantity,
                HoldStatus::Released,
                version,
            ),
            InventoryEvent::HoldExpired {
                hold_id,
                section_id,
                seats,
                quantity,
                ..
            } => self.free_hold(
                event_id,
                &hold_id.to_string(),
                &section_id.to_string(),
                &seats,
                quantity,
                HoldStatus::Expired,
                version,
            ),
            InventoryEvent::SeatsSold {
                hold_id,
                order_id,
                section_id,
                seats,
                quantity,
                ..
            } => {
                let hold_id = hold_id.to_string();
                let section_id = section_id.to_string();
                let order_id = order_id.as_uuid();
                let was_pending =
                    self.end_hold(&hold_id, HoldStatus::Ordered, Some(order_id), version);
                let held = if was_pending { -i64::from(quantity) } else { 0 };
                self.touch_section(event_id, &section_id, held, i64::from(quantity), version);
                self.set_seats(
                    event_id,
                    &section_id,
                    &seats,
                    SeatStatus::Sold,
                    Some(&hold_id),
                    Some(order_id),
                    None,
                    version,
                );
            }
            InventoryEvent::HoldCheckedOut {
                hold_id, order_id, ..
            } => {
                // Seats and counts stay as they are: a checked-out hold is still held.
                self.set_hold(
                    &hold_id.to_string(),
                    HoldStatus::CheckedOut,
                    Some(order_id.as_uuid()),
                    version,
                );
            }
            InventoryEvent::SeatsReturned {
                section_id,
                seats,
                quantity,
                ..
            } => {
                let section_id = section_id.to_string();
                self.touch_section(event_id, &section_id, 0, -i64::from(quantity), version);
                self.set_seats(
                    event_id,
                    &section_id,
                    &seats,
                    SeatStatus::Available,
                    None,
                    None,
                    None,
                    version,
                );
            }
            other => {
                // A fact newer than this projector: it changes nothing shown here yet. Logged, so
                // that a new fact that does take or free seats is noticed before it matters.
                tracing::warn!(
                    kind = other.kind(),
                    "inventory fact unknown to the projector; skipped"
                );
            }
        }
    }

    /// A hold released or expired: its seats are free again, and it stops counting as held if it
    /// still did.
    #[allow(clippy::too_many_arguments)]
    fn free_hold(
        &mut self,
        event_id: Uuid,
        hold_id: &str,
        section_id: &str,
        seats: &[domain::ids::SeatLabel],
        quantity: u32,
        status: HoldStatus,
        version: i64,
    ) {
        let was_pending = self.end_hold(hold_id, status, None, version);
        let held = if was_pending { -i64::from(quantity) } else { 0 };
        self.touch_section(event_id, section_id, held, 0, version);
        self.set_seats(
            event_id,
            section_id,
            seats,
            SeatStatus::Available,
            None,
            None,
            None,
            version,
        );
    }
}

/// The holds a batch ends without having created them: their status decides whether they still
/// count as held.
fn holds_ended_before_created(
    commits: &[(Uuid, i64, OffsetDateTime, Vec<InventoryEvent>)],
) -> Vec<String> {
    let mut created = HashSet::new();
    let mut wanted = Vec::new();
    for (_, _, _, events) in commits {
        for event in events {
            match event {
                InventoryEvent::SeatsHeld { hold_id, .. } => {
                    created.insert(hold_id.to_string());
                }
                InventoryEvent::HoldReleased { hold_id, .. }
                | InventoryEvent::HoldExpired { hold_id, .. }
                | InventoryEvent::SeatsSold { hold_id, .. } => {
                    let id = hold_id.to_string();
                    if !created.contains(&id) {
                        wanted.push(id);
                    }
                }
                _ => {}
            }
        }
    }
    wanted.sort();
    wanted.dedup();
    wanted
}

pub(super) async fn apply(
    tx: &Transaction<'_>,
    schema: &str,
    commits: &[RawCommit],
    mode: Mode,
) -> Result<(usize, Notice), ProjectError> {
    let mut decoded = Vec::with_capacity(commits.len());
    let mut events = 0;
    for raw in commits {
        let commit = raw
            .decode::<InventoryEvent>()
            .map_err(|e| undecodable(Stream::Inventory, raw, e))?;
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

    let mut fold = Fold::default();
    let preload = holds_ended_before_created(&decoded);
    if !preload.is_empty() {
        let statement = tx
            .prepare_cached(&format!(
                "SELECT hold_id, status FROM {schema}.holds WHERE hold_id = ANY($1::text[])"
            ))
            .await?;
        for row in tx.query(&statement, &[&preload]).await? {
            fold.hold_status
                .insert(row.get(0), HoldStatus::parse(row.get::<_, &str>(1)));
        }
    }
    for (event_id, version, recorded_at, batch_events) in decoded {
        for event in batch_events {
            fold.apply(event_id, version, recorded_at, event);
        }
    }

    write_opened(tx, schema, &mut fold, mode).await?;
    write_holds(tx, schema, &fold, mode).await?;
    write_seats(tx, schema, &fold).await?;
    let availability = write_availability(tx, schema, &fold, mode).await?;

    let mut holds: Vec<String> = fold
        .new_holds
        .keys()
        .chain(fold.hold_changes.keys())
        .cloned()
        .collect();
    holds.sort();
    holds.dedup();
    Ok((
        events,
        Notice {
            projection: "inventory".into(),
            availability,
            holds,
            ..Notice::default()
        },
    ))
}

/// Inserts opened sections and seats; the seats also changed by the batch leave `fold.seats`.
async fn write_opened(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &mut Fold,
    mode: Mode,
) -> Result<(), ProjectError> {
    if !fold.opened.is_empty() {
        let o = &fold.opened;
        let statement = tx
            .prepare_cached(&format!(
                "INSERT INTO {schema}.availability
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
        "INSERT INTO {schema}.seats (event_id, section_id, seat, row_ordinal, number, status, version)
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
        "INSERT INTO {schema}.seats (event_id, section_id, seat, row_ordinal, number, status,
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

async fn write_holds(
    tx: &Transaction<'_>,
    schema: &str,
    fold: &Fold,
    mode: Mode,
) -> Result<(), ProjectError> {
    if !fold.new_holds.is_empty() {
        let h: Vec<(&String, &NewHold)> = fold.new_holds.iter().collect();
        let insert = format!(
            "INSERT INTO {schema}.holds (hold_id, event_id, section_id, customer_id, seats, quantity,
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
                "UPDATE {schema}.holds h
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

async fn write_seats(tx: &Transaction<'_>, schema: &str, fold: &Fold) -> Result<(), ProjectError> {
    if fold.seats.is_empty() {
        return Ok(());
    }
    let s: Vec<(&(Uuid, String, String), &SeatChange)> = fold.seats.iter().collect();
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE {schema}.seats t
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

async fn write_availability(
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
            "UPDATE {schema}.availability a
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
            version: row.get::<_, i64>(8) as u64,
        })
        .collect())
}

/// The earliest expiry of the pending holds of availability row `a`'s section.
fn next_expiry_of_a(schema: &str) -> String {
    format!(
        "SELECT min(h.expires_at) FROM {schema}.holds h
         WHERE h.event_id = a.event_id AND h.section_id = a.section_id
           AND h.status IN ('active', 'checked_out')"
    )
}

/// Sets `next_expiry` of every section from the holds: what the batches applied with
/// [`Mode::Bulk`] left out. Every change of a section's pending holds touches the section,
/// so a batch recomputing it leaves the same value as this.
pub(super) async fn compute_next_expiry(
    client: &impl deadpool_postgres::GenericClient,
    schema: &str,
) -> Result<(), ProjectError> {
    client
        .batch_execute(&format!(
            "UPDATE {schema}.availability a SET next_expiry = ({})",
            next_expiry_of_a(schema)
        ))
        .await?;
    Ok(())
}

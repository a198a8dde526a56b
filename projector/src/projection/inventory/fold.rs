//! The inventory projection's fold: a batch of commits into final per-row changes, in memory,
//! with no I/O. Pure, so it is tested as stories (given these stored statuses, when these facts,
//! then these row changes) and against folding the same facts one at a time (`tests`).
//!
//! Every fact that takes or frees seats names them (empty for general admission) and the
//! quantity, so a batch folds with no history except one thing: whether a hold was still pending
//! (active, or ordered: checked out into an unpaid order) when it ended (a hold sold after it
//! expired was already subtracted from `held` by its `HoldExpired`). The caller reads the stored
//! status of the holds a batch ends without creating them first ([`holds_ended_before_created`])
//! and hands them to [`Fold::new`]. A checkout changes no seat and no count: the hold becomes
//! `ordered` and stays held until it is sold, released by its order, or expires. An operator's
//! block (`SeatsBlocked`, `BlockReleased`) counts in the section's `blocked` and marks its seats
//! `blocked`; it has no hold row.

use domain::catalog::SectionLayout;
use domain::inventory::InventoryEvent;
use read_model::seat_map::Layout;
use read_model::status::{HoldStatus, SeatStatus};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::OffsetDateTime;
use uuid::Uuid;

pub(super) type SectionKey = (Uuid, String);

/// One decoded commit: its event, its stream sequence (the version of every row it changes), when
/// it was recorded, and its facts.
pub(super) type Commit = (Uuid, i64, OffsetDateTime, Vec<InventoryEvent>);

pub(super) struct OpenedSection {
    pub(super) event_id: Uuid,
    pub(super) section_id: String,
    pub(super) ordinal: i32,
    pub(super) seated: bool,
    pub(super) capacity: i32,
    pub(super) version: i64,
}

/// The seat map of a seated section opened by the batch: its layout, every seat available.
pub(super) struct OpenedMap {
    pub(super) event_id: Uuid,
    pub(super) section_id: String,
    pub(super) layout: Layout,
    pub(super) version: i64,
}

#[derive(Default)]
pub(super) struct SectionDelta {
    pub(super) held: i64,
    pub(super) sold: i64,
    pub(super) blocked: i64,
    pub(super) version: i64,
}

/// A seat's final status in the batch, and its hold's expiry while held.
pub(super) struct SeatChange {
    pub(super) status: SeatStatus,
    pub(super) expires_at: Option<OffsetDateTime>,
    pub(super) version: i64,
}

pub(super) struct NewHold {
    pub(super) event_id: Uuid,
    pub(super) section_id: String,
    pub(super) customer_id: String,
    pub(super) seats: String,
    pub(super) quantity: i32,
    pub(super) expires_at: OffsetDateTime,
    pub(super) status: HoldStatus,
    pub(super) order_id: Option<Uuid>,
    pub(super) created_at: OffsetDateTime,
    pub(super) version: i64,
}

pub(super) struct HoldChange {
    pub(super) status: HoldStatus,
    pub(super) order_id: Option<Uuid>,
    pub(super) version: i64,
}

/// A batch folded into final per-row changes.
#[derive(Default)]
pub(super) struct Fold {
    pub(super) opened: Vec<OpenedSection>,
    pub(super) opened_maps: Vec<OpenedMap>,
    pub(super) sections: BTreeMap<SectionKey, SectionDelta>,
    pub(super) seats: BTreeMap<(Uuid, String, String), SeatChange>,
    pub(super) new_holds: BTreeMap<String, NewHold>,
    pub(super) hold_changes: BTreeMap<String, HoldChange>,
    /// The status of every hold the fold has seen so far (loaded or created).
    pub(super) hold_status: HashMap<String, HoldStatus>,
    /// Orders whose seats were returned, with the version, whose sold hold is not in the fold:
    /// that hold is found by its order in the table.
    pub(super) returned: BTreeMap<Uuid, i64>,
}

impl Fold {
    /// A fold that knows the stored status of the holds the batch ends without creating them
    /// ([`holds_ended_before_created`]).
    pub(super) fn new(stored: HashMap<String, HoldStatus>) -> Self {
        Self {
            hold_status: stored,
            ..Self::default()
        }
    }

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

    fn set_seats(
        &mut self,
        event_id: Uuid,
        section_id: &str,
        seats: &[domain::ids::SeatLabel],
        status: SeatStatus,
        expires_at: Option<OffsetDateTime>,
        version: i64,
    ) {
        for seat in seats {
            self.seats.insert(
                (event_id, section_id.to_owned(), seat.to_string()),
                SeatChange {
                    status,
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

    pub(super) fn apply(
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
                            self.opened_maps.push(OpenedMap {
                                event_id,
                                section_id: section_id.clone(),
                                layout: Layout {
                                    row_labels: rows.iter().map(|r| r.row.to_string()).collect(),
                                    row_seats: rows.iter().map(|r| r.seats as i32).collect(),
                                },
                                version,
                            });
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
                    self.end_hold(&hold_id, HoldStatus::Sold, Some(order_id), version);
                let held = if was_pending { -i64::from(quantity) } else { 0 };
                self.touch_section(event_id, &section_id, held, i64::from(quantity), version);
                self.set_seats(
                    event_id,
                    &section_id,
                    &seats,
                    SeatStatus::Sold,
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
                    HoldStatus::Ordered,
                    Some(order_id.as_uuid()),
                    version,
                );
            }
            InventoryEvent::SeatsReturned {
                order_id,
                section_id,
                seats,
                quantity,
                ..
            } => {
                self.return_hold(order_id.as_uuid(), version);
                let section_id = section_id.to_string();
                self.touch_section(event_id, &section_id, 0, -i64::from(quantity), version);
                self.set_seats(
                    event_id,
                    &section_id,
                    &seats,
                    SeatStatus::Available,
                    None,
                    version,
                );
            }
            InventoryEvent::SeatsBlocked {
                section_id,
                seats,
                quantity,
                ..
            } => self.block(
                event_id,
                &section_id.to_string(),
                &seats,
                i64::from(quantity),
                SeatStatus::Blocked,
                version,
            ),
            InventoryEvent::BlockReleased {
                section_id,
                seats,
                quantity,
                ..
            } => self.block(
                event_id,
                &section_id.to_string(),
                &seats,
                -i64::from(quantity),
                SeatStatus::Available,
                version,
            ),
            // A hold's ticket type changes no seat and no count; orders carry their prices.
            InventoryEvent::HoldTyped { .. } => {}
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

    /// An operator's block took seats off sale (`blocked` > 0, seats `Blocked`) or gave them back
    /// (`blocked` < 0, seats `Available`). No hold row: a block is not a hold.
    fn block(
        &mut self,
        event_id: Uuid,
        section_id: &str,
        seats: &[domain::ids::SeatLabel],
        blocked: i64,
        status: SeatStatus,
        version: i64,
    ) {
        self.touch_section(event_id, section_id, 0, 0, version);
        if let Some(delta) = self.sections.get_mut(&(event_id, section_id.to_owned())) {
            delta.blocked += blocked;
        }
        self.set_seats(event_id, section_id, seats, status, None, version);
    }

    /// The hold sold to `order_id` had its seats returned: changed here if the batch sold it (or
    /// saw it sold), else by its order in the table.
    fn return_hold(&mut self, order_id: Uuid, version: i64) {
        let sold_to = |status: HoldStatus, order: Option<Uuid>| {
            status == HoldStatus::Sold && order == Some(order_id)
        };
        let in_fold = self
            .new_holds
            .iter()
            .find(|(_, h)| sold_to(h.status, h.order_id))
            .map(|(id, _)| id.clone())
            .or_else(|| {
                self.hold_changes
                    .iter()
                    .find(|(_, h)| sold_to(h.status, h.order_id))
                    .map(|(id, _)| id.clone())
            });
        match in_fold {
            Some(hold_id) => {
                self.set_hold(&hold_id, HoldStatus::Returned, None, version);
            }
            None => {
                self.returned.insert(order_id, version);
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
            version,
        );
    }
}

/// The holds a batch ends without having created them: their status decides whether they still
/// count as held.
pub(super) fn holds_ended_before_created(commits: &[Commit]) -> Vec<String> {
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

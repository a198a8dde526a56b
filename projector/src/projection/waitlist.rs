//! The waiting lists, part of the inventory projection: one row per entry in `waitlist`, written
//! in the inventory batch's transaction.
//!
//! A pure fold ([`fold`]) turns a batch's commits into new entries and status changes; two bulk
//! statements write them. Commits without a waiting-list fact (nearly all of a sale) are skipped
//! before decoding. An entry's place in its line is counted by the reader, from `joined_order`.

use super::decode;
use crate::error::ProjectError;
use deadpool_postgres::Transaction;
use domain::inventory::InventoryEvent;
use std::collections::BTreeMap;
use tv_nats::{RawCommit, Stream};
use uuid::Uuid;

/// A new entry, as `WaitlistJoined` makes it (and later facts of the same batch change it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewEntry {
    pub event_id: Uuid,
    pub section_id: String,
    pub customer_id: String,
    pub quantity: i32,
    pub adjacent: bool,
    pub joined_order: i64,
    pub change: Change,
}

/// What becomes of an entry: its status, its offered hold, the commit that said so.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub status: &'static str,
    pub hold_id: Option<String>,
    pub version: i64,
}

/// A batch's waiting-list rows: entries it creates, and changes to entries made before it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Folded {
    pub created: BTreeMap<String, NewEntry>,
    pub changed: BTreeMap<String, Change>,
}

/// Facts at most this many per commit keep `joined_order` (sequence × this + index) in order.
const FACTS_PER_COMMIT: i64 = 1 << 20;

/// Folds the waiting-list facts of `commits` (in stream order).
pub(crate) fn fold(commits: &[RawCommit]) -> Result<Folded, ProjectError> {
    let mut folded = Folded::default();
    for raw in commits {
        if !mentions_waitlist(&raw.payload) {
            continue;
        }
        let commit = decode::<InventoryEvent>(Stream::Inventory, raw)?;
        let version = raw.sequence as i64;
        for (index, fact) in commit.events.iter().enumerate() {
            let (id, change) = match fact {
                InventoryEvent::WaitlistJoined {
                    waitlist_id,
                    customer_id,
                    section_id,
                    quantity,
                    adjacent,
                } => {
                    folded.created.insert(
                        waitlist_id.to_string(),
                        NewEntry {
                            event_id: waitlist_id.event().as_uuid(),
                            section_id: section_id.to_string(),
                            customer_id: customer_id.to_string(),
                            quantity: *quantity as i32,
                            adjacent: *adjacent,
                            joined_order: version * FACTS_PER_COMMIT + index as i64,
                            change: Change {
                                status: "waiting",
                                hold_id: None,
                                version,
                            },
                        },
                    );
                    continue;
                }
                InventoryEvent::WaitlistOffered {
                    waitlist_id,
                    hold_id,
                    ..
                } => (waitlist_id, ("offered", Some(hold_id.to_string()))),
                InventoryEvent::WaitlistOfferExpired {
                    waitlist_id,
                    hold_id,
                    ..
                } => (waitlist_id, ("expired", Some(hold_id.to_string()))),
                InventoryEvent::WaitlistLeft {
                    waitlist_id,
                    hold_id,
                    ..
                } => (waitlist_id, ("left", hold_id.map(|h| h.to_string()))),
                _ => continue,
            };
            let change = Change {
                status: change.0,
                hold_id: change.1,
                version,
            };
            let id = id.to_string();
            match folded.created.get_mut(&id) {
                Some(new) => new.change = merged(&new.change, change),
                None => {
                    let merged = match folded.changed.get(&id) {
                        Some(before) => merged(before, change),
                        None => change,
                    };
                    folded.changed.insert(id, merged);
                }
            }
        }
    }
    Ok(folded)
}

/// A later change keeps the offered hold an earlier one named.
fn merged(before: &Change, after: Change) -> Change {
    Change {
        hold_id: after.hold_id.or_else(|| before.hold_id.clone()),
        ..after
    }
}

/// Whether a commit's payload may hold a waiting-list fact (every such fact's type names it).
fn mentions_waitlist(payload: &[u8]) -> bool {
    payload.windows(8).any(|w| w == b"Waitlist")
}

pub(super) async fn apply(
    tx: &Transaction<'_>,
    schema: &str,
    commits: &[RawCommit],
) -> Result<(), ProjectError> {
    let folded = fold(commits)?;
    write_created(tx, schema, &folded.created).await?;
    write_changed(tx, schema, &folded.changed).await
}

async fn write_created(
    tx: &Transaction<'_>,
    schema: &str,
    created: &BTreeMap<String, NewEntry>,
) -> Result<(), ProjectError> {
    if created.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&String, &NewEntry)> = created.iter().collect();
    let statement = tx
        .prepare_cached(&format!(
            "INSERT INTO {schema}.waitlist (waitlist_id, event_id, section_id, customer_id,
                 quantity, adjacent, status, hold_id, joined_order, version)
             SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::text[], $5::int4[],
                 $6::bool[], $7::text[], $8::text[], $9::int8[], $10::int8[])
             ON CONFLICT (waitlist_id) DO UPDATE
                 SET status = EXCLUDED.status, hold_id = EXCLUDED.hold_id,
                     version = EXCLUDED.version"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &rows.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            &rows.iter().map(|(_, n)| n.event_id).collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|(_, n)| n.section_id.as_str())
                .collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|(_, n)| n.customer_id.as_str())
                .collect::<Vec<_>>(),
            &rows.iter().map(|(_, n)| n.quantity).collect::<Vec<_>>(),
            &rows.iter().map(|(_, n)| n.adjacent).collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|(_, n)| n.change.status)
                .collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|(_, n)| n.change.hold_id.as_deref())
                .collect::<Vec<_>>(),
            &rows.iter().map(|(_, n)| n.joined_order).collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|(_, n)| n.change.version)
                .collect::<Vec<_>>(),
        ],
    )
    .await?;
    Ok(())
}

async fn write_changed(
    tx: &Transaction<'_>,
    schema: &str,
    changed: &BTreeMap<String, Change>,
) -> Result<(), ProjectError> {
    if changed.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&String, &Change)> = changed.iter().collect();
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE {schema}.waitlist w
             SET status = d.status, hold_id = COALESCE(d.hold_id, w.hold_id), version = d.version
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[])
                 AS d(waitlist_id, status, hold_id, version)
             WHERE w.waitlist_id = d.waitlist_id AND w.version <= d.version"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &rows.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            &rows.iter().map(|(_, c)| c.status).collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|(_, c)| c.hold_id.as_deref())
                .collect::<Vec<_>>(),
            &rows.iter().map(|(_, c)| c.version).collect::<Vec<_>>(),
        ],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Given the facts of a batch, when folded, then these rows.

    use super::*;
    use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, SectionId, WaitlistId};
    use tv_nats::EventRecord;

    fn entry(customer: &str) -> (WaitlistId, CustomerId) {
        let customer = CustomerId::parse(customer).unwrap();
        let event = EventId::from_uuid(Uuid::from_u128(7));
        let key = IdempotencyKey::parse("k").unwrap();
        (WaitlistId::derive(event, &customer, &key), customer)
    }

    fn commit(sequence: u64, facts: &[InventoryEvent]) -> RawCommit {
        let records: Vec<_> = facts.iter().map(|f| EventRecord::new(1, f)).collect();
        let payload = serde_json::to_vec(&serde_json::json!({
            "recorded_at": "2030-06-01T18:00:00Z",
            "events": records,
        }))
        .expect("an encodable commit")
        .into();
        RawCommit {
            subject: "t.inventory.0.x".into(),
            sequence,
            headers: None,
            payload,
        }
    }

    fn joined(id: WaitlistId, customer: &CustomerId) -> InventoryEvent {
        InventoryEvent::WaitlistJoined {
            waitlist_id: id,
            customer_id: customer.clone(),
            section_id: SectionId::parse("floor").unwrap(),
            quantity: 2,
            adjacent: false,
        }
    }

    #[test]
    fn a_batch_folds_joins_offers_and_ends_into_final_rows() {
        let (carol, carol_id) = entry("carol");
        let (dave, dave_id) = entry("dave");
        let offer = HoldId::offered_to(carol);
        let folded = fold(&[
            commit(5, &[joined(carol, &carol_id), joined(dave, &dave_id)]),
            commit(
                9,
                &[InventoryEvent::WaitlistOffered {
                    waitlist_id: carol,
                    customer_id: carol_id.clone(),
                    hold_id: offer,
                }],
            ),
            commit(
                12,
                &[InventoryEvent::WaitlistOfferExpired {
                    waitlist_id: carol,
                    customer_id: carol_id,
                    hold_id: offer,
                }],
            ),
        ])
        .unwrap();
        assert!(folded.changed.is_empty());
        let carol_row = &folded.created[&carol.to_string()];
        assert_eq!(carol_row.change.status, "expired");
        assert_eq!(carol_row.change.hold_id, Some(offer.to_string()));
        assert_eq!(carol_row.change.version, 12);
        let dave_row = &folded.created[&dave.to_string()];
        assert_eq!(dave_row.change.status, "waiting");
        assert!(carol_row.joined_order < dave_row.joined_order);
    }

    #[test]
    fn an_entry_made_before_the_batch_gets_a_change_that_keeps_its_offer() {
        let (carol, carol_id) = entry("carol");
        let offer = HoldId::offered_to(carol);
        let folded = fold(&[
            commit(
                20,
                &[InventoryEvent::WaitlistOffered {
                    waitlist_id: carol,
                    customer_id: carol_id.clone(),
                    hold_id: offer,
                }],
            ),
            commit(
                21,
                &[InventoryEvent::WaitlistLeft {
                    waitlist_id: carol,
                    customer_id: carol_id,
                    hold_id: None,
                }],
            ),
        ])
        .unwrap();
        assert!(folded.created.is_empty());
        assert_eq!(
            folded.changed[&carol.to_string()],
            Change {
                status: "left",
                hold_id: Some(offer.to_string()),
                version: 21,
            }
        );
    }

    #[test]
    fn commits_without_a_waiting_list_fact_fold_to_nothing() {
        let folded = fold(&[commit(
            3,
            &[InventoryEvent::HoldReleased {
                hold_id: HoldId::offered_to(entry("x").0),
                customer_id: CustomerId::parse("x").unwrap(),
                section_id: SectionId::parse("floor").unwrap(),
                seats: Vec::new(),
                quantity: 1,
            }],
        )])
        .unwrap();
        assert_eq!(folded, Folded::default());
    }
}

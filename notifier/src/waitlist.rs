//! Notices for the waiting list, from the INVENTORY stream: seats came back and are offered to an
//! entry's customer (held for them until `expires_at`), and an offer that ran out.
//!
//! Pure: the facts of one commit give the notices; the offer's seats are in the `SeatsHeld` just
//! before its `WaitlistOffered`, in the same commit.

use crate::notice::{NoticeKind, Notification};
use domain::inventory::InventoryEvent;
use serde_json::json;

/// The notices of one inventory commit stored at `stream_sequence`.
pub fn waitlist_notices(facts: &[InventoryEvent], stream_sequence: u64) -> Vec<Notification> {
    let mut notices = Vec::new();
    for (index, fact) in facts.iter().enumerate() {
        let (kind, waitlist_id, customer_id, mut body) = match fact {
            InventoryEvent::WaitlistOffered {
                waitlist_id,
                customer_id,
                hold_id,
            } => {
                let mut body = json!({ "hold_id": hold_id });
                if let Some(InventoryEvent::SeatsHeld {
                    section_id,
                    seats,
                    quantity,
                    expires_at,
                    ..
                }) = index.checked_sub(1).and_then(|i| facts.get(i))
                {
                    body["section_id"] = json!(section_id);
                    body["seats"] = json!(seats);
                    body["quantity"] = json!(quantity);
                    body["expires_at"] = json!(expires_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .ok());
                }
                (NoticeKind::WaitlistOffer, waitlist_id, customer_id, body)
            }
            InventoryEvent::WaitlistOfferExpired {
                waitlist_id,
                customer_id,
                hold_id,
            } => (
                NoticeKind::WaitlistOfferExpired,
                waitlist_id,
                customer_id,
                json!({ "hold_id": hold_id }),
            ),
            _ => continue,
        };
        body["waitlist_id"] = json!(waitlist_id);
        body["event_id"] = json!(waitlist_id.event());
        body["customer_id"] = json!(customer_id);
        notices.push(Notification {
            id: format!("{waitlist_id}:{kind}"),
            order_id: None,
            customer_id: customer_id.to_string(),
            kind,
            body,
            stream: "inventory",
            stream_sequence,
        });
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, SectionId, WaitlistId};
    use domain::inventory::Selection;

    #[test]
    fn an_offer_and_its_expiry_are_one_notice_each_with_the_seats() {
        let carol = CustomerId::parse("carol").unwrap();
        let entry = WaitlistId::derive(
            EventId::new_random(),
            &carol,
            &IdempotencyKey::parse("k").unwrap(),
        );
        let hold_id = HoldId::offered_to(entry);
        let offered = [
            InventoryEvent::SeatsHeld {
                hold_id,
                customer_id: carol.clone(),
                section_id: SectionId::parse("stalls").unwrap(),
                seats: vec!["A-1".parse().unwrap(), "A-2".parse().unwrap()],
                quantity: 2,
                expires_at: time::macros::datetime!(2030-06-01 18:10 UTC),
                request: Selection::Quantity(2),
            },
            InventoryEvent::WaitlistOffered {
                waitlist_id: entry,
                customer_id: carol.clone(),
                hold_id,
            },
        ];
        let notices = waitlist_notices(&offered, 7);
        assert_eq!(notices.len(), 1);
        let offer = &notices[0];
        assert_eq!(offer.id, format!("{entry}:waitlist_offer"));
        assert_eq!(offer.customer_id, "carol");
        assert_eq!(offer.body["seats"], json!(["A-1", "A-2"]));
        assert_eq!(offer.body["expires_at"], "2030-06-01T18:10:00Z");
        assert_eq!(offer.body["hold_id"], json!(hold_id));
        assert_eq!((offer.stream, offer.stream_sequence), ("inventory", 7));
        // The hold alone tells nothing; the expiry of the offer does.
        assert!(waitlist_notices(&offered[..1], 7).is_empty());
        let expired = waitlist_notices(
            &[InventoryEvent::WaitlistOfferExpired {
                waitlist_id: entry,
                customer_id: carol,
                hold_id,
            }],
            9,
        );
        assert_eq!(expired[0].kind, NoticeKind::WaitlistOfferExpired);
        assert_eq!(expired[0].id, format!("{entry}:waitlist_offer_expired"));
    }
}

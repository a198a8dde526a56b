//! The facts of a waiting room are stored as tagged JSON and read back unchanged.

use super::*;
use crate::waiting_room::CloseReason;

#[test]
fn waiting_room_facts_serialize_as_tagged_json() {
    let alice = customer("alice");
    for event in [
        configured(config(60, Some(5))),
        joined_prequeue(&alice, at(-5)),
        joined_line(&alice, at(5)),
        shuffled(seed(7), 3, at(0)),
        admitted(&alice, at(1)),
        expired(&alice, at(TTL + 1)),
        confirmed(&alice, at(2)),
        left(&alice, at(3)),
        WaitingRoomEvent::QueueClosed {
            reason: CloseReason::SoldOut,
            closed_at: at(9),
        },
    ] {
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], event.kind());
        assert_eq!(
            serde_json::from_value::<WaitingRoomEvent>(json).unwrap(),
            event
        );
    }
    let json = serde_json::to_value(shuffled(seed(7), 3, at(0))).unwrap();
    assert_eq!(json["data"]["seed"], seed(7).to_string());
    assert_eq!(json["data"]["shuffled_at"], "2030-06-01T18:00:00Z");
    let json = serde_json::to_value(joined_prequeue(&alice, at(-5))).unwrap();
    assert_eq!(json["data"]["queue"], "prequeue");
    let json = serde_json::to_value(confirmed(&alice, at(2))).unwrap();
    assert_eq!(json["data"]["reason"], "order_confirmed");
}

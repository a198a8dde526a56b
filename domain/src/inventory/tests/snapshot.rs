//! Snapshots: what is saved is configuration and holds; loading rebuilds every index, and the
//! loaded state decides exactly as the live one.

use super::*;
use crate::inventory::{decide, EventInventory, InventorySnapshot};

/// A sale with holds in every status, one due at `at(TTL + 100)`, one ordered and due at
/// `at(TTL + 150)`, one that expired after its checkout.
fn busy() -> EventInventory {
    let a = held_seats(&alice(), "a", &["A-1", "A-2"], 0);
    let b = held_floor(&bob(), "b", 3, 10);
    let c = held(
        &carol(),
        "c",
        "boxes",
        &["Y-1", "Y-2"],
        Selection::Quantity(2),
        20,
    );
    let d = held_seats(&bob(), "d", &["B-5"], 30);
    let e = held_floor(&alice(), "e", 2, 200);
    let f = held_seats(&carol(), "f", &["C-1"], TTL + 50);
    let g = held_seats(&alice(), "g", &["C-5", "C-6"], 150);
    let h = held_floor(&carol(), "h", 1, 40);
    let events = vec![
        opened(),
        a.clone(),
        b.clone(),
        c.clone(),
        d.clone(),
        h.clone(),
        checked_out(&a, order(1)),
        sold(&a, order(1)),
        checked_out(&h, order(5)),
        expired(&h),
        released(&b),
        sold(&c, order(2)),
        returned(&c, order(2)),
        expired(&d),
        e,
        f,
        g.clone(),
        checked_out(&g, order(4)),
    ];
    events.iter().fold(EventInventory::default(), |s, e| {
        crate::inventory::evolve(s, e)
    })
}

fn probes() -> Vec<InventoryCommand> {
    vec![
        InventoryCommand::ExpireDue,
        place_seats(&alice(), "a", &["A-1", "A-2"]),
        place_seats(&bob(), "x", &["A-1", "A-3"]),
        place_quantity(&alice(), "x", "stalls", 3),
        place_quantity(&bob(), "x", "boxes", 2),
        place_quantity(&carol(), "x", "floor", 6),
        release(&held_floor(&alice(), "e", 2, 200), &alice()),
        sell(&held_seats(&bob(), "d", &["B-5"], 30), order(3)),
        sell(&held_seats(&alice(), "g", &["C-5", "C-6"], 150), order(4)),
        sell(&held_floor(&carol(), "h", 1, 40), order(5)),
        sell(&held_floor(&carol(), "h", 1, 40), order(6)),
        checkout(&held_floor(&alice(), "e", 2, 200), order(6)),
        checkout(&held_seats(&alice(), "g", &["C-5", "C-6"], 150), order(4)),
        checkout(&held_seats(&alice(), "g", &["C-5", "C-6"], 150), order(6)),
        release(&held_seats(&alice(), "g", &["C-5", "C-6"], 150), &alice()),
        InventoryCommand::ReturnSeats { order_id: order(1) },
        InventoryCommand::ReturnSeats { order_id: order(2) },
    ]
}

#[test]
fn a_snapshot_decides_like_the_state_it_was_taken_from() {
    let live = busy();
    let json = serde_json::to_string(&live).unwrap();
    let loaded: EventInventory = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, live);
    assert_eq!(loaded.index, live.index, "indexes rebuilt exactly");
    for now in [
        at(100),
        at(TTL + 100),
        at(TTL + 150),
        at(TTL + 200),
        at(10 * TTL),
    ] {
        assert_eq!(loaded.availability(now), live.availability(now));
        for command in probes() {
            assert_eq!(
                decide(&loaded, &command, now),
                decide(&live, &command, now),
                "{command:?}"
            );
        }
    }
    assert_eq!(loaded.next_expiry(), live.next_expiry());
    assert_eq!(serde_json::to_string(&loaded).unwrap(), json);
}

#[test]
fn an_unopened_inventory_round_trips() {
    let json = serde_json::to_string(&EventInventory::default()).unwrap();
    let loaded: EventInventory = serde_json::from_str(&json).unwrap();
    assert!(!loaded.is_open());
}

#[test]
fn a_snapshot_that_breaks_a_promise_is_refused() {
    let mut snapshot = serde_json::to_value(busy()).unwrap();
    // Give bob's released floor hold (index 1) alice's sold seats in the stalls, and revive it.
    let holds = snapshot["holds"].as_array_mut().unwrap();
    let sold_hold = holds[0].clone();
    holds[1] = sold_hold;
    holds[1]["hold_id"] = serde_json::to_value(hold_id(&bob(), "forged")).unwrap();
    holds[1]["status"] = "active".into();
    holds[1].as_object_mut().unwrap().remove("order_id");
    let error = serde_json::from_value::<EventInventory>(snapshot).unwrap_err();
    assert!(error.to_string().contains("two live holds"), "{error}");

    let mut snapshot = serde_json::to_value(busy()).unwrap();
    snapshot["version"] = 99.into();
    assert!(serde_json::from_value::<EventInventory>(snapshot).is_err());

    // A hold ordered by one order that names another.
    let mut snapshot = serde_json::to_value(busy()).unwrap();
    let ordered = snapshot["holds"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|h| h["status"].get("ordered").is_some())
        .unwrap();
    ordered["order_id"] = serde_json::to_value(order(9)).unwrap();
    let error = serde_json::from_value::<EventInventory>(snapshot).unwrap_err();
    assert!(error.to_string().contains("names order"), "{error}");
}

#[test]
fn a_version_1_snapshot_is_read_and_its_orders_filled_in() {
    // Version 1 knew no checkout: a sold hold named its order only in its status.
    let h = held_seats(&alice(), "a", &["A-1"], 0);
    let live = [opened(), h.clone(), sold(&h, order(1))]
        .iter()
        .fold(EventInventory::default(), crate::inventory::evolve);
    let mut snapshot = serde_json::to_value(&live).unwrap();
    assert_eq!(snapshot["version"], 8);
    snapshot["version"] = 1.into();
    snapshot["holds"][0]
        .as_object_mut()
        .unwrap()
        .remove("order_id");
    let loaded: EventInventory = serde_json::from_value(snapshot).unwrap();
    assert_eq!(loaded, live);
    assert_eq!(loaded.index, live.index);
}

#[test]
fn a_hold_without_an_order_keeps_the_version_1_shape() {
    let h = held_floor(&alice(), "a", 2, 0);
    let state = [opened(), h]
        .iter()
        .fold(EventInventory::default(), crate::inventory::evolve);
    let snapshot = serde_json::to_value(&state).unwrap();
    assert!(snapshot["holds"][0].get("order_id").is_none());
}

/// `snapshot_v2.json` is `busy()` as the version before tombstones saved it: it loads, decides as
/// the live state does, and its finished holds fold like any others.
#[test]
fn a_version_2_snapshot_is_read_and_its_finished_holds_fold() {
    let live = busy();
    let mut loaded: EventInventory =
        serde_json::from_str(include_str!("snapshot_v2.json")).unwrap();
    assert_eq!(loaded, live);
    assert_eq!(loaded.index, live.index);
    loaded.fold_finished();
    assert_eq!(loaded.whole_holds_count(), 4, "a, e, f and g are live");
    assert_eq!(loaded.holds_count(), live.holds_count());
    for now in [at(100), at(TTL + 150), at(10 * TTL)] {
        assert_eq!(loaded.availability(now), live.availability(now));
        for command in probes() {
            assert_eq!(
                decide(&loaded, &command, now),
                decide(&live, &command, now),
                "{command:?}"
            );
        }
    }
    let saved = serde_json::to_value(&loaded).unwrap();
    assert_eq!(saved["version"], 8);
    assert_eq!(saved["finished"].as_array().unwrap().len(), 4);
    let again: EventInventory = serde_json::from_value(saved).unwrap();
    assert_eq!(again, loaded);
}

/// `busy()` with its finished holds folded into tombstones, a block, a waiting-list entry: every
/// part a snapshot has.
fn busy_and_folded() -> EventInventory {
    let mut state = busy();
    state.fold_finished();
    for fact in [
        super::blocks::blocked(
            "b1",
            "stalls",
            &["B-1", "B-2"],
            Selection::Seats(seats(&["B-1", "B-2"])),
        ),
        InventoryEvent::WaitlistJoined {
            waitlist_id: waitlist_id(&bob(), "w"),
            customer_id: bob(),
            section_id: section("boxes"),
            quantity: 2,
            adjacent: true,
        },
    ] {
        state.apply(&fact);
    }
    state
}

#[test]
fn the_binary_form_loads_what_the_json_form_loads() {
    for live in [busy(), busy_and_folded(), EventInventory::default()] {
        let from_json: EventInventory =
            serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
        let binary = postcard::to_allocvec(&live).unwrap();
        let from_binary: EventInventory = postcard::from_bytes(&binary).unwrap();
        assert_eq!(from_binary, from_json);
        assert_eq!(
            from_binary.index, from_json.index,
            "indexes rebuilt exactly"
        );
        assert_eq!(from_binary, live);
        for now in [at(100), at(TTL + 150), at(10 * TTL)] {
            assert_eq!(from_binary.availability(now), live.availability(now));
            for command in probes() {
                assert_eq!(
                    decide(&from_binary, &command, now),
                    decide(&live, &command, now),
                    "{command:?}"
                );
            }
        }
        // The same state always gives the same bytes.
        assert_eq!(postcard::to_allocvec(&from_binary).unwrap(), binary);
    }
}

#[test]
fn a_binary_snapshot_that_breaks_a_promise_is_refused() {
    let live = busy();
    let binary = postcard::to_allocvec(&live).unwrap();
    // Hold g (ordered, live) moves from C-6 to A-1, which alice bought: seat labels are written
    // as their text, so the three bytes `C-6` (its seats and its request) become `A-1`.
    let mut forged = binary.clone();
    let mut moved = 0;
    for at in 0..forged.len() - 2 {
        if &forged[at..at + 3] == b"C-6" {
            forged[at..at + 3].copy_from_slice(b"A-1");
            moved += 1;
        }
    }
    assert_eq!(moved, 2);
    let read: InventorySnapshot = postcard::from_bytes(&forged).unwrap();
    let refused = EventInventory::try_from(read).unwrap_err();
    assert!(refused.to_string().contains("two live holds"), "{refused}");
    assert!(postcard::from_bytes::<EventInventory>(&forged).is_err());
    let mut json = serde_json::to_string(&live).unwrap();
    json = json.replace("\"C-6\"", "\"A-1\"");
    let error = serde_json::from_str::<EventInventory>(&json).unwrap_err();
    assert!(error.to_string().contains("two live holds"), "{error}");

    // The version comes first: one the binary form never had is refused.
    for version in [7, 9] {
        let mut other = binary.clone();
        assert_eq!(other[0], 8);
        other[0] = version;
        let read: InventorySnapshot = postcard::from_bytes(&other).unwrap();
        let refused = EventInventory::try_from(read).unwrap_err();
        assert!(
            refused.to_string().contains(&format!("version {version}")),
            "{refused}"
        );
    }
    // Cut short.
    assert!(postcard::from_bytes::<EventInventory>(&binary[..binary.len() / 2]).is_err());
}

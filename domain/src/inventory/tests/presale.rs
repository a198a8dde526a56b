//! Presales: before the general sale (`T0`), a hold during a presale window needs one of that
//! presale's codes, and a code is good for `max_tickets_per_code` tickets held or sold with it.
//! Outside every window and before `T0`, nothing is held. A hold released, expired, abandoned or
//! returned gives its tickets back to its code.
//!
//! The fixture: presale `fans` from `T0 - 2 h` to `T0 - 1 h`, 2 tickets per code, codes `FAN-1`
//! and `FAN-2`; presale `members` from `T0 - 30 min` to `T0`, 3 tickets per code, code `MEM-1`.

use super::*;
use crate::ids::PresaleId;
use crate::inventory::{
    AccessCode, AccessCodeHash, AccessCodeKey, EventInventory, HoldStatus, InventoryError, Presale,
};
use crate::test_support::given_state;

pub(super) const FANS_OPEN: i64 = -7_200;
pub(super) const FANS_CLOSE: i64 = -3_600;
pub(super) const MEMBERS_OPEN: i64 = -1_800;

pub(super) fn presale_id(id: &str) -> PresaleId {
    PresaleId::parse(id).unwrap()
}

pub(super) fn presales() -> Vec<Presale> {
    vec![
        Presale {
            presale_id: presale_id("fans"),
            opens_at: at(FANS_OPEN),
            closes_at: at(FANS_CLOSE),
            max_tickets_per_code: 2,
        },
        Presale {
            presale_id: presale_id("members"),
            opens_at: at(MEMBERS_OPEN),
            closes_at: at(0),
            max_tickets_per_code: 3,
        },
    ]
}

pub(super) fn code(text: &str) -> AccessCodeHash {
    AccessCodeKey::derive(b"the server secret of the presale stories", event_id())
        .hash(&AccessCode::parse(text).unwrap())
}

pub(super) fn loaded(presale: &str, codes: &[&str]) -> InventoryEvent {
    let mut codes: Vec<_> = codes.iter().map(|c| code(c)).collect();
    codes.sort();
    InventoryEvent::AccessCodesLoaded {
        presale_id: presale_id(presale),
        codes,
    }
}

pub(super) fn opened_with_presales() -> InventoryEvent {
    let mut opened = opened();
    if let InventoryEvent::InventoryOpened { presales: p, .. } = &mut opened {
        *p = presales();
    }
    opened
}

/// The fixture sale with its presales and codes loaded, after these facts.
fn presale_sale(events: impl IntoIterator<Item = InventoryEvent>) -> Given<Inventory> {
    given::<Inventory>(
        [
            opened_with_presales(),
            loaded("fans", &["FAN-1", "FAN-2"]),
            loaded("members", &["MEM-1"]),
        ]
        .into_iter()
        .chain(events),
    )
}

/// `quantity` floor tickets for `who`, with this code.
pub(super) fn place_with(
    who: &CustomerId,
    key: &str,
    quantity: u32,
    access_code: Option<&str>,
) -> InventoryCommand {
    let InventoryCommand::PlaceHold(mut request) = place_quantity(who, key, "floor", quantity)
    else {
        unreachable!()
    };
    request.access_code = access_code.map(code);
    InventoryCommand::PlaceHold(request)
}

pub(super) fn spent(who: &CustomerId, key: &str, presale: &str, text: &str) -> InventoryEvent {
    InventoryEvent::AccessCodeSpent {
        hold_id: hold_id(who, key),
        presale_id: presale_id(presale),
        code: code(text),
    }
}

fn load(presale: &str, codes: &[&str]) -> InventoryCommand {
    InventoryCommand::LoadAccessCodes {
        presale_id: presale_id(presale),
        codes: codes.iter().map(|c| code(c)).collect(),
    }
}

#[test]
fn a_hold_during_a_presale_spends_its_code() {
    presale_sale([])
        .when(place_with(&alice(), "k", 2, Some("fan-1")), at(FANS_OPEN))
        .then(vec![
            held_floor(&alice(), "k", 2, FANS_OPEN),
            spent(&alice(), "k", "fans", "FAN-1"),
        ]);
}

#[test]
fn before_between_and_after_the_presales_the_window_decides() {
    for before in [FANS_OPEN - 1, FANS_CLOSE, MEMBERS_OPEN - 1] {
        presale_sale([])
            .when(place_with(&alice(), "k", 1, Some("FAN-1")), at(before))
            .then_error(InventoryError::SaleNotOpen);
    }
    presale_sale([])
        .when(place_with(&alice(), "k", 1, Some("MEM-1")), at(-1))
        .then(vec![
            held_floor(&alice(), "k", 1, -1),
            spent(&alice(), "k", "members", "MEM-1"),
        ]);
}

#[test]
fn the_general_sale_needs_no_code_and_spends_none() {
    presale_sale([])
        .when(place_with(&alice(), "k", 2, None), at(0))
        .then(vec![held_floor(&alice(), "k", 2, 0)]);
    presale_sale([])
        .when(place_with(&alice(), "k", 2, Some("FAN-1")), at(10))
        .then(vec![held_floor(&alice(), "k", 2, 10)]);
}

#[test]
fn no_code_a_wrong_one_or_one_of_another_presale_is_refused() {
    for typed in [None, Some("FAN-9"), Some("MEM-1")] {
        presale_sale([])
            .when(place_with(&alice(), "k", 1, typed), at(FANS_OPEN + 5))
            .then_error(InventoryError::AccessCodeInvalid);
    }
}

#[test]
fn a_code_fills_exactly_its_budget_and_not_one_more() {
    let later = FANS_OPEN + 10;
    let state = presale_sale([
        held_floor(&alice(), "a", 1, FANS_OPEN),
        spent(&alice(), "a", "fans", "FAN-1"),
    ])
    .when(place_with(&bob(), "b", 1, Some("FAN-1")), at(later))
    .then(vec![
        held_floor(&bob(), "b", 1, later),
        spent(&bob(), "b", "fans", "FAN-1"),
    ]);
    given_state::<Inventory>(state.clone())
        .when(place_with(&carol(), "c", 1, Some("FAN-1")), at(later))
        .then_error(InventoryError::AccessCodeUsedUp { max: 2, spent: 2 });
    // Another code of the presale has its own budget.
    given_state::<Inventory>(state)
        .when(place_with(&carol(), "c", 2, Some("FAN-2")), at(later))
        .then(vec![
            held_floor(&carol(), "c", 2, later),
            spent(&carol(), "c", "fans", "FAN-2"),
        ]);
}

#[test]
fn one_ticket_over_the_budget_is_refused_in_one_hold() {
    presale_sale([])
        .when(place_with(&alice(), "k", 3, Some("FAN-1")), at(FANS_OPEN))
        .then_error(InventoryError::AccessCodeUsedUp { max: 2, spent: 0 });
}

#[test]
fn a_retry_is_not_counted_twice() {
    let first = [
        held_floor(&alice(), "k", 2, FANS_OPEN),
        spent(&alice(), "k", "fans", "FAN-1"),
    ];
    presale_sale(first.clone())
        .when(
            place_with(&alice(), "k", 2, Some("FAN-1")),
            at(FANS_OPEN + 30),
        )
        .then_nothing();
    // Even after the presale (once the hold lapsed): the retry gets its first answer.
    presale_sale(first.clone())
        .when(
            place_with(&alice(), "k", 2, Some("FAN-1")),
            at(FANS_CLOSE + 1),
        )
        .then(vec![expired(&first[0])]);
    // The same key with another code is another request.
    presale_sale(first)
        .when(
            place_with(&alice(), "k", 2, Some("FAN-2")),
            at(FANS_OPEN + 30),
        )
        .then_error(InventoryError::IdempotencyKeyReused);
}

#[test]
fn a_released_hold_gives_its_tickets_back_to_the_code() {
    let h = held_floor(&alice(), "a", 2, FANS_OPEN);
    presale_sale([
        h.clone(),
        spent(&alice(), "a", "fans", "FAN-1"),
        released(&h),
    ])
    .when(
        place_with(&bob(), "b", 2, Some("FAN-1")),
        at(FANS_OPEN + 60),
    )
    .then(vec![
        held_floor(&bob(), "b", 2, FANS_OPEN + 60),
        spent(&bob(), "b", "fans", "FAN-1"),
    ]);
}

#[test]
fn an_expired_hold_gives_its_tickets_back_recorded_or_not() {
    let h = held_floor(&alice(), "a", 2, FANS_OPEN);
    let lapsed = FANS_OPEN + TTL;
    presale_sale([h.clone(), spent(&alice(), "a", "fans", "FAN-1")])
        .when(place_with(&bob(), "b", 2, Some("FAN-1")), at(lapsed))
        .then(vec![
            expired(&h),
            held_floor(&bob(), "b", 2, lapsed),
            spent(&bob(), "b", "fans", "FAN-1"),
        ]);
}

#[test]
fn a_sold_hold_keeps_its_tickets_until_its_order_is_returned() {
    let h = held_floor(&alice(), "a", 2, FANS_OPEN);
    let sold_out_code = [
        h.clone(),
        spent(&alice(), "a", "fans", "FAN-1"),
        checked_out(&h, order(1)),
        sold(&h, order(1)),
    ];
    presale_sale(sold_out_code.clone())
        .when(
            place_with(&bob(), "b", 1, Some("FAN-1")),
            at(FANS_OPEN + TTL + 5),
        )
        .then_error(InventoryError::AccessCodeUsedUp { max: 2, spent: 2 });
    presale_sale(sold_out_code.into_iter().chain([returned(&h, order(1))]))
        .when(
            place_with(&bob(), "b", 1, Some("FAN-1")),
            at(FANS_OPEN + 60),
        )
        .then(vec![
            held_floor(&bob(), "b", 1, FANS_OPEN + 60),
            spent(&bob(), "b", "fans", "FAN-1"),
        ]);
}

#[test]
fn a_lapsed_hold_is_sold_to_its_order_only_if_its_code_has_the_tickets_left() {
    let h = held_floor(&alice(), "a", 2, FANS_OPEN);
    let b = held_floor(&bob(), "b", 2, FANS_OPEN + TTL);
    presale_sale([
        h.clone(),
        spent(&alice(), "a", "fans", "FAN-1"),
        checked_out(&h, order(1)),
        expired(&h),
        b,
        spent(&bob(), "b", "fans", "FAN-1"),
    ])
    .when(sell(&h, order(1)), at(FANS_OPEN + TTL + 5))
    .then_error(InventoryError::HoldExpired);
    presale_sale([
        h.clone(),
        spent(&alice(), "a", "fans", "FAN-1"),
        checked_out(&h, order(1)),
        expired(&h),
    ])
    .when(sell(&h, order(1)), at(FANS_OPEN + TTL + 5))
    .then(vec![sold(&h, order(1))]);
}

#[test]
fn loading_codes_adds_each_code_once() {
    let state = presale_sale([])
        .when(load("fans", &["FAN-1", "FAN-3", "fan-3 "]), at(-90_000))
        .then(vec![loaded("fans", &["FAN-3"])]);
    given_state::<Inventory>(state.clone())
        .when(load("fans", &["FAN-3", "FAN-2"]), at(-90_000))
        .then_nothing();
    given_state::<Inventory>(state)
        .when(place_with(&alice(), "k", 1, Some("Fan-3")), at(FANS_OPEN))
        .then(vec![
            held_floor(&alice(), "k", 1, FANS_OPEN),
            spent(&alice(), "k", "fans", "FAN-3"),
        ]);
}

#[test]
fn codes_go_to_a_presale_the_event_has() {
    presale_sale([])
        .when(load("vip", &["VIP-1"]), at(-90_000))
        .then_error(InventoryError::UnknownPresale);
    on_sale([])
        .when(load("fans", &["FAN-1"]), at(-90_000))
        .then_error(InventoryError::UnknownPresale);
}

#[test]
fn whlatercodes_spent_survives_a_snapshot_and_folding() {
    let h = held_floor(&alice(), "a", 1, FANS_OPEN);
    let mut state = presale_sale([
        h.clone(),
        spent(&alice(), "a", "fans", "FAN-1"),
        released(&h),
        held_floor(&bob(), "b", 1, FANS_OPEN + 5),
        spent(&bob(), "b", "fans", "FAN-1"),
    ])
    .when(InventoryCommand::ExpireDue, at(FANS_OPEN + 6))
    .then_nothing();
    state.fold_finished();
    let bytes = serde_json::to_vec(&state).unwrap();
    let restored: EventInventory = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(restored, state);
    assert!(!String::from_utf8_lossy(&bytes).contains("FAN-1"));
    let bob_hold = restored.hold(&hold_id(&bob(), "b")).unwrap();
    assert_eq!(bob_hold.status, HoldStatus::Active);
    given_state::<Inventory>(restored)
        .when(
            place_with(&carol(), "c", 2, Some("FAN-1")),
            at(FANS_OPEN + 10),
        )
        .then_error(InventoryError::AccessCodeUsedUp { max: 2, spent: 1 });
}

#[test]
fn an_operators_close_ends_a_presale_too() {
    presale_sale([InventoryEvent::SaleClosed {
        closed_at: at(FANS_OPEN + 60),
    }])
    .when(
        place_with(&alice(), "k", 1, Some("FAN-1")),
        at(FANS_OPEN + 61),
    )
    .then_error(InventoryError::SaleClosed);
}

//! Rule 11: an event sold through a waiting room holds seats only for customers it admitted: a
//! live admission of this customer to this event, decided at the hold's `now`. A retry of a hold
//! placed while admitted still gets its first answer; other events ignore admissions.

use super::*;
use crate::inventory::InventoryError;
use crate::waiting_room::AdmissionClaims;

/// The fixture sale, sold through a waiting room.
fn queued_sale(events: impl IntoIterator<Item = InventoryEvent>) -> Given<Inventory> {
    let mut opened = opened();
    if let InventoryEvent::InventoryOpened { waiting_room, .. } = &mut opened {
        *waiting_room = true;
    }
    given::<Inventory>(std::iter::once(opened).chain(events))
}

/// An admission of `who` to `event` from `T0` until `until` seconds after it.
fn admitted(who: &CustomerId, event: EventId, until: i64) -> AdmissionClaims {
    AdmissionClaims::for_admission(event, who.clone(), T0, at(until))
}

/// Two floor tickets for `who`, carrying `admission`.
fn hold_with(who: &CustomerId, admission: Option<AdmissionClaims>) -> InventoryCommand {
    let InventoryCommand::PlaceHold(mut request) = place_quantity(who, "k", "floor", 2) else {
        unreachable!()
    };
    request.admission = admission;
    InventoryCommand::PlaceHold(request)
}

fn two_on_the_floor(who: &CustomerId, placed_at: i64) -> InventoryEvent {
    held(who, "k", "floor", &[], Selection::Quantity(2), placed_at)
}

#[test]
fn an_admitted_customer_holds_seats() {
    queued_sale([])
        .when(
            hold_with(&alice(), Some(admitted(&alice(), event_id(), 600))),
            at(5),
        )
        .then(vec![two_on_the_floor(&alice(), 5)]);
}

#[test]
fn without_an_admission_the_hold_is_not_admitted() {
    queued_sale([])
        .when(hold_with(&alice(), None), at(5))
        .then_error(InventoryError::NotAdmitted);
}

#[test]
fn an_admission_that_ran_out_is_expired() {
    queued_sale([])
        .when(
            hold_with(&alice(), Some(admitted(&alice(), event_id(), 60))),
            at(60),
        )
        .then_error(InventoryError::AdmissionExpired);
}

#[test]
fn another_customers_admission_does_not_admit() {
    queued_sale([])
        .when(
            hold_with(&alice(), Some(admitted(&bob(), event_id(), 600))),
            at(5),
        )
        .then_error(InventoryError::NotAdmitted);
}

#[test]
fn an_admission_to_another_event_does_not_admit_even_when_expired_too() {
    let elsewhere = EventId::from_uuid(Uuid::from_u128(0xe2));
    queued_sale([])
        .when(
            hold_with(&alice(), Some(admitted(&alice(), elsewhere, 60))),
            at(120),
        )
        .then_error(InventoryError::NotAdmitted);
}

#[test]
fn a_retry_of_a_hold_placed_while_admitted_gets_its_first_answer_after_the_admission_ends() {
    // Placed at 5 s under an admission that ended at 60 s; retried at 300 s, the hold still live.
    let ended = admitted(&alice(), event_id(), 60);
    queued_sale([two_on_the_floor(&alice(), 5)])
        .when(hold_with(&alice(), Some(ended)), at(300))
        .then_nothing();
    queued_sale([two_on_the_floor(&alice(), 5)])
        .when(hold_with(&alice(), None), at(300))
        .then_nothing();
}

#[test]
fn before_the_sale_opens_the_window_is_the_answer_not_the_admission() {
    queued_sale([])
        .when(hold_with(&alice(), None), at(-5))
        .then_error(InventoryError::SaleNotOpen);
}

#[test]
fn an_event_without_a_waiting_room_ignores_admissions() {
    on_sale([])
        .when(
            hold_with(&alice(), Some(admitted(&bob(), event_id(), 1))),
            at(5),
        )
        .then(vec![two_on_the_floor(&alice(), 5)]);
}

#[test]
fn an_inventory_opened_before_waiting_rooms_existed_reads_as_one_without() {
    let stored = serde_json::to_value(opened()).unwrap();
    assert!(!stored.to_string().contains("waiting_room"), "{stored}");
    let loaded: InventoryEvent = serde_json::from_value(stored).unwrap();
    assert_eq!(loaded, opened());
}

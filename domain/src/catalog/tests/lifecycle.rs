//! An event's lifecycle: Draft → OnSale → Closed, Cancelled from any of them; every step retryable.

use super::details;
use crate::catalog::{CatalogCommand, CatalogError, CatalogEvent, CatalogState, EventStatus};
use crate::ids::EventId;
use crate::test_support::{given, Catalog};
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2030-05-01 12:00 UTC);
fn event_id() -> EventId {
    EventId::from_uuid(Uuid::from_u128(0xe7e7))
}

fn create() -> CatalogCommand {
    CatalogCommand::Create {
        event_id: event_id(),
        details: details(),
    }
}

fn created() -> CatalogEvent {
    CatalogEvent::EventCreated {
        event_id: event_id(),
        details: details(),
    }
}

fn published() -> CatalogEvent {
    CatalogEvent::EventPublished {
        event_id: event_id(),
    }
}

fn closed() -> CatalogEvent {
    CatalogEvent::SaleClosed {
        event_id: event_id(),
    }
}

fn cancelled() -> CatalogEvent {
    CatalogEvent::EventCancelled {
        event_id: event_id(),
    }
}

fn invalid(current: EventStatus, action: &'static str) -> CatalogError {
    CatalogError::InvalidState { current, action }
}

#[test]
fn creating_an_event_makes_a_draft() {
    let state = given::<Catalog>([])
        .when(create(), NOW)
        .then(vec![created()]);
    assert_eq!(state.status(), Some(EventStatus::Draft));
    assert_eq!(state.event_id(), Some(event_id()));
    assert_eq!(state.details(), Some(&details()));
}

#[test]
fn creating_again_with_the_same_details_is_a_retry() {
    given::<Catalog>([created()])
        .when(create(), NOW)
        .then_nothing();
}

#[test]
fn creating_again_with_other_details_is_refused() {
    let mut other = details();
    other.name = "Another night".into();
    given::<Catalog>([created()])
        .when(
            CatalogCommand::Create {
                event_id: event_id(),
                details: other,
            },
            NOW,
        )
        .then_error(CatalogError::AlreadyExists);
}

#[test]
fn commands_on_an_unknown_event_are_refused() {
    for command in [
        CatalogCommand::Publish,
        CatalogCommand::CloseSale,
        CatalogCommand::Cancel,
    ] {
        given::<Catalog>([])
            .when(command, NOW)
            .then_error(CatalogError::UnknownEvent);
    }
}

#[test]
fn publishing_puts_a_draft_on_sale_once() {
    let state = given::<Catalog>([created()])
        .when(CatalogCommand::Publish, NOW)
        .then(vec![published()]);
    assert_eq!(state.status(), Some(EventStatus::OnSale));
    given::<Catalog>([created(), published()])
        .when(CatalogCommand::Publish, NOW)
        .then_nothing();
}

#[test]
fn a_closed_or_cancelled_event_cannot_be_published() {
    given::<Catalog>([created(), published(), closed()])
        .when(CatalogCommand::Publish, NOW)
        .then_error(invalid(EventStatus::Closed, "published"));
    given::<Catalog>([created(), cancelled()])
        .when(CatalogCommand::Publish, NOW)
        .then_error(invalid(EventStatus::Cancelled, "published"));
}

#[test]
fn closing_the_sale_needs_an_event_on_sale() {
    let state = given::<Catalog>([created(), published()])
        .when(CatalogCommand::CloseSale, NOW)
        .then(vec![closed()]);
    assert_eq!(state.status(), Some(EventStatus::Closed));
    given::<Catalog>([created(), published(), closed()])
        .when(CatalogCommand::CloseSale, NOW)
        .then_nothing();
    given::<Catalog>([created()])
        .when(CatalogCommand::CloseSale, NOW)
        .then_error(invalid(EventStatus::Draft, "closed"));
    given::<Catalog>([created(), cancelled()])
        .when(CatalogCommand::CloseSale, NOW)
        .then_error(invalid(EventStatus::Cancelled, "closed"));
}

#[test]
fn any_event_can_be_cancelled_once() {
    for history in [
        vec![created()],
        vec![created(), published()],
        vec![created(), published(), closed()],
    ] {
        let state = given::<Catalog>(history)
            .when(CatalogCommand::Cancel, NOW)
            .then(vec![cancelled()]);
        assert_eq!(state.status(), Some(EventStatus::Cancelled));
    }
    given::<Catalog>([created(), cancelled()])
        .when(CatalogCommand::Cancel, NOW)
        .then_nothing();
}

#[test]
fn statuses_read_in_snake_case() {
    assert_eq!(EventStatus::OnSale.to_string(), "on_sale");
    assert_eq!(
        serde_json::to_string(&EventStatus::OnSale).unwrap(),
        "\"on_sale\""
    );
    assert_eq!(
        invalid(EventStatus::OnSale, "published").to_string(),
        "the event is on_sale and cannot be published"
    );
}

#[test]
fn the_state_round_trips_through_json() {
    let state = given::<Catalog>([created(), published()])
        .when(CatalogCommand::CloseSale, NOW)
        .then(vec![closed()]);
    let json = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<CatalogState>(&json).unwrap(), state);
    assert_eq!(CatalogState::default().status(), None);
}

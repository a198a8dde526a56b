//! Rule 0: a waiting room is valid before it exists: it opens before the sale, admits at a
//! positive rate, bounds live admissions by a positive number if at all, and lets an admission
//! live within bounds (600 s when not said).

use super::*;
use crate::waiting_room::{InvalidWaitingRoom, WaitingRoomError, DEFAULT_ADMISSION_TTL_SECONDS};

fn draft() -> WaitingRoomDraft {
    WaitingRoomDraft {
        opens_at: at(OPENS),
        admit_per_minute: 600,
        max_active: Some(100),
        admission_ttl_seconds: None,
    }
}

#[test]
fn a_valid_draft_is_parsed_with_the_default_ttl() {
    let config = WaitingRoomConfig::parse(&draft(), Some(SALE), None).unwrap();
    assert_eq!(config.opens_at(), at(OPENS));
    assert_eq!(config.sale_opens_at(), SALE);
    assert_eq!(config.sale_closes_at(), None);
    assert_eq!(config.admit_per_minute(), 600);
    assert_eq!(config.max_active(), Some(100));
    assert_eq!(
        config.admission_ttl_seconds(),
        DEFAULT_ADMISSION_TTL_SECONDS
    );
    assert_eq!(config.admission_interval(), Duration::milliseconds(100));
}

#[test]
fn every_rule_of_a_draft_names_its_field() {
    let cases: Vec<(
        WaitingRoomDraft,
        Option<Timestamp>,
        Option<Timestamp>,
        InvalidWaitingRoom,
    )> = vec![
        (draft(), None, None, InvalidWaitingRoom::NoSaleOpensAt),
        (
            WaitingRoomDraft {
                opens_at: SALE,
                ..draft()
            },
            Some(SALE),
            None,
            InvalidWaitingRoom::OpensAtNotBeforeSale,
        ),
        (
            WaitingRoomDraft {
                opens_at: at(1),
                ..draft()
            },
            Some(SALE),
            None,
            InvalidWaitingRoom::OpensAtNotBeforeSale,
        ),
        (
            draft(),
            Some(SALE),
            Some(SALE),
            InvalidWaitingRoom::SaleClosesBeforeItOpens,
        ),
        (
            WaitingRoomDraft {
                admit_per_minute: 0,
                ..draft()
            },
            Some(SALE),
            None,
            InvalidWaitingRoom::AdmitPerMinuteOutOfRange,
        ),
        (
            WaitingRoomDraft {
                admit_per_minute: 60_001,
                ..draft()
            },
            Some(SALE),
            None,
            InvalidWaitingRoom::AdmitPerMinuteOutOfRange,
        ),
        (
            WaitingRoomDraft {
                max_active: Some(0),
                ..draft()
            },
            Some(SALE),
            None,
            InvalidWaitingRoom::MaxActiveOutOfRange,
        ),
        (
            WaitingRoomDraft {
                admission_ttl_seconds: Some(29),
                ..draft()
            },
            Some(SALE),
            None,
            InvalidWaitingRoom::AdmissionTtlOutOfRange,
        ),
        (
            WaitingRoomDraft {
                admission_ttl_seconds: Some(86_401),
                ..draft()
            },
            Some(SALE),
            None,
            InvalidWaitingRoom::AdmissionTtlOutOfRange,
        ),
    ];
    for (draft, opens, closes, expected) in cases {
        assert_eq!(
            WaitingRoomConfig::parse(&draft, opens, closes),
            Err(expected.clone())
        );
        assert!(!expected.field().is_empty());
    }
    assert_eq!(
        InvalidWaitingRoom::OpensAtNotBeforeSale.field(),
        "waiting_room.opens_at"
    );
}

#[test]
fn the_pacing_interval_rounds_up_to_the_nanosecond() {
    let seven = WaitingRoomConfig::parse(
        &WaitingRoomDraft {
            admit_per_minute: 7,
            ..draft()
        },
        Some(SALE),
        None,
    )
    .unwrap();
    // 60 s / 7 = 8.571428571428… s: never shorter, so never more than 7 a minute.
    assert_eq!(
        seven.admission_interval(),
        Duration::nanoseconds(8_571_428_572)
    );
}

#[test]
fn a_stored_configuration_is_checked_again_when_read() {
    let config = config(60, Some(5));
    let json = serde_json::to_value(config).unwrap();
    assert_eq!(json["admit_per_minute"], 60);
    assert_eq!(json["sale_opens_at"], "2030-06-01T18:00:00Z");
    assert_eq!(
        serde_json::from_value::<WaitingRoomConfig>(json.clone()).unwrap(),
        config
    );
    let mut broken = json;
    broken["admit_per_minute"] = 0.into();
    assert!(serde_json::from_value::<WaitingRoomConfig>(broken).is_err());
}

#[test]
fn a_room_is_configured_once() {
    given::<WaitingRooms>([])
        .when(
            WaitingRoomCommand::Configure {
                event_id: event_id(),
                config: config(60, None),
            },
            at(-7_200),
        )
        .then(vec![configured(config(60, None))]);
    room(config(60, None), [])
        .when(
            WaitingRoomCommand::Configure {
                event_id: event_id(),
                config: config(60, None),
            },
            at(-7_200),
        )
        .then_nothing();
    room(config(60, None), [])
        .when(
            WaitingRoomCommand::Configure {
                event_id: event_id(),
                config: config(120, None),
            },
            at(-7_200),
        )
        .then_error(WaitingRoomError::AlreadyConfigured);
}

#[test]
fn an_event_without_a_waiting_room_has_no_queue() {
    given::<WaitingRooms>([])
        .when(join(&customer("alice")), at(0))
        .then_error(WaitingRoomError::NoWaitingRoom);
    given::<WaitingRooms>([])
        .when(WaitingRoomCommand::Admit, at(0))
        .then_error(WaitingRoomError::NoWaitingRoom);
}

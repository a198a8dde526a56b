//! Rule 7: an admission token lets its customer hold seats of its event until `admitted_until`.
//! Another customer's or another event's token does not (`not_admitted`); an expired one does not
//! either (`admission_expired`). Signing and verifying the token is the service's business.

use super::*;
use crate::waiting_room::{check_admission, AdmissionClaims, AdmissionRefused};

fn claims() -> AdmissionClaims {
    AdmissionClaims::for_admission(event_id(), customer("alice"), at(0), at(TTL))
}

#[test]
fn the_admitted_customer_may_buy_until_the_admission_ends() {
    let alice = customer("alice");
    assert_eq!(claims().iat, at(0).unix_timestamp());
    assert_eq!(claims().exp, at(TTL).unix_timestamp());
    assert_eq!(
        check_admission(&claims(), &alice, event_id(), at(0)),
        Ok(())
    );
    assert_eq!(
        check_admission(&claims(), &alice, event_id(), at(TTL - 1)),
        Ok(())
    );
    assert_eq!(
        check_admission(&claims(), &alice, event_id(), at(TTL)),
        Err(AdmissionRefused::AdmissionExpired)
    );
}

#[test]
fn another_customer_or_event_is_not_admitted_even_when_expired() {
    let other_event = EventId::from_uuid(Uuid::from_u128(0xe2));
    for when in [at(0), at(TTL + 1)] {
        assert_eq!(
            check_admission(&claims(), &customer("bob"), event_id(), when),
            Err(AdmissionRefused::NotAdmitted)
        );
        assert_eq!(
            check_admission(&claims(), &customer("alice"), other_event, when),
            Err(AdmissionRefused::NotAdmitted)
        );
    }
    assert_eq!(AdmissionRefused::NotAdmitted.code(), "not_admitted");
    assert_eq!(
        AdmissionRefused::AdmissionExpired.code(),
        "admission_expired"
    );
}

#[test]
fn claims_serialize_with_the_jwt_names() {
    let json = serde_json::to_value(claims()).unwrap();
    assert_eq!(json["sub"], "alice");
    assert_eq!(json["event_id"], event_id().to_string());
    assert_eq!(json["exp"], at(TTL).unix_timestamp());
    assert_eq!(
        serde_json::from_value::<AdmissionClaims>(json).unwrap(),
        claims()
    );
}

//! Presales in an operator's draft: windows before the general sale, one code good for at least
//! one ticket; each problem named by its JSON path, and the inventory opened with them.

use super::draft;
use crate::catalog::{
    open_inventory, EventDetails, EventDraft, InvalidEvent, PresaleDraft, MAX_PRESALES,
    MAX_TICKETS_PER_CODE,
};
use crate::inventory::InventoryCommand;
use time::macros::datetime;

/// The fixture's general sale opens at 2030-06-01 10:00 UTC; this presale ends as it opens.
fn fans() -> PresaleDraft {
    PresaleDraft {
        presale_id: "fans".into(),
        opens_at: datetime!(2030-05-31 10:00 UTC),
        closes_at: datetime!(2030-06-01 10:00 UTC),
        max_tickets_per_code: 2,
    }
}

fn members() -> PresaleDraft {
    PresaleDraft {
        presale_id: "members".into(),
        opens_at: datetime!(2030-05-30 10:00 UTC),
        closes_at: datetime!(2030-05-31 10:00 UTC),
        max_tickets_per_code: 4,
    }
}

fn with(presales: Vec<PresaleDraft>) -> EventDraft {
    EventDraft {
        presales,
        ..draft()
    }
}

#[track_caller]
fn refused(draft: EventDraft) -> InvalidEvent {
    match EventDetails::parse(draft) {
        Ok(details) => panic!("accepted {details:?}"),
        Err(error) => error,
    }
}

#[track_caller]
fn refused_with(change: impl FnOnce(&mut PresaleDraft)) -> InvalidEvent {
    let mut presale = fans();
    change(&mut presale);
    refused(with(vec![members(), presale]))
}

#[test]
fn presales_before_the_sale_are_kept_in_order_and_open_the_inventory() {
    let details = EventDetails::parse(with(vec![fans(), members()])).unwrap();
    let ids: Vec<_> = details
        .presales
        .iter()
        .map(|p| p.presale_id.to_string())
        .collect();
    assert_eq!(ids, ["fans", "members"]);
    assert_eq!(details.presales[0].max_tickets_per_code, 2);
    let InventoryCommand::Open { presales, .. } = open_inventory(&details) else {
        panic!("not an Open command");
    };
    assert_eq!(presales, details.presales);
    let json = serde_json::to_string(&details).unwrap();
    assert_eq!(
        serde_json::from_str::<EventDetails>(&json).unwrap(),
        details
    );
}

#[test]
fn an_event_without_presales_stores_none() {
    let details = EventDetails::parse(draft()).unwrap();
    assert!(details.presales.is_empty());
    assert!(!serde_json::to_string(&details)
        .unwrap()
        .contains("presales"));
}

#[test]
fn a_presale_overlapping_the_sale_is_refused() {
    let error = refused_with(|p| p.closes_at = datetime!(2030-06-01 10:00:01 UTC));
    assert_eq!(error.field, "presales[1].closes_at");
    assert!(error.reason.contains("sale_opens_at"), "{error}");
}

#[test]
fn a_presale_closing_before_it_opens_is_refused() {
    let error = refused_with(|p| p.closes_at = p.opens_at);
    assert_eq!(error.field, "presales[1].closes_at");
}

#[test]
fn a_code_must_be_good_for_at_least_one_ticket() {
    let error = refused_with(|p| p.max_tickets_per_code = 0);
    assert_eq!(error.field, "presales[1].max_tickets_per_code");
    let error = refused_with(|p| p.max_tickets_per_code = MAX_TICKETS_PER_CODE + 1);
    assert_eq!(error.field, "presales[1].max_tickets_per_code");
}

#[test]
fn presales_may_not_overlap_or_share_an_id() {
    let error = refused_with(|p| p.opens_at = datetime!(2030-05-31 09:59 UTC));
    assert_eq!(error.field, "presales[1].opens_at");
    assert!(error.reason.contains("members"), "{error}");
    let error = refused_with(|p| {
        p.presale_id = "members".into();
    });
    assert_eq!(error.field, "presales[1].presale_id");
    let error = refused_with(|p| p.presale_id = "fans club".into());
    assert_eq!(error.field, "presales[1].presale_id");
}

#[test]
fn presales_need_a_general_sale_time_and_are_bounded_in_number() {
    let error = refused(EventDraft {
        sale_opens_at: None,
        ..with(vec![fans()])
    });
    assert_eq!(error.field, "sale_opens_at");
    let many = (0..=MAX_PRESALES)
        .map(|i| PresaleDraft {
            presale_id: format!("p{i}"),
            opens_at: datetime!(2030-01-01 00:00 UTC) + time::Duration::hours(i as i64),
            closes_at: datetime!(2030-01-01 00:30 UTC) + time::Duration::hours(i as i64),
            max_tickets_per_code: 1,
        })
        .collect();
    assert_eq!(refused(with(many)).field, "presales");
}

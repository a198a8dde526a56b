//! A whole purchase across the three aggregates, with this story playing the reactors: the
//! inventory checks a hold out, the order is placed with its facts, the payment is charged, the
//! seats are sold and the order confirmed; or the hold ran out, the seats went to someone else,
//! and the money goes back. Shows how the deciders fit together, not new rules.

use super::{alice, at, ticket_key};
use crate::catalog::{Row, SectionLayout};
use crate::ids::{CustomerId, EventId, HoldId, IdempotencyKey, OrderId, PaymentId, SectionId};
use crate::inventory::{
    self, EventInventory, HoldRequest, HoldStatus, InventoryCommand, InventoryError,
    InventoryEvent, InventorySection, SeatStatus, Selection,
};
use crate::ordering::{self, OrderCommand, OrderEvent, OrderState, OrderStatus, Preparation};
use crate::payments::{self, ChargeOutcome, PaymentCommand, PaymentEvent, PaymentState};
use crate::Timestamp;
use uuid::Uuid;

const TTL: i64 = 600;
const PRICE: i64 = 4_500;

/// One event's inventory, one order and its payment, kept as the writers would.
struct Shop {
    inventory: EventInventory,
    order: OrderState,
    payment: PaymentState,
    order_id: OrderId,
}

impl Shop {
    fn open() -> Self {
        let mut shop = Shop {
            inventory: EventInventory::default(),
            order: OrderState::default(),
            payment: PaymentState::default(),
            order_id: OrderId::derive(&alice(), &key("order")),
        };
        shop.inventory(
            InventoryCommand::Open {
                sections: vec![InventorySection {
                    section_id: stalls(),
                    price_minor: PRICE,
                    layout: SectionLayout::Seated {
                        rows: vec![Row {
                            row: "A".parse().unwrap(),
                            seats: 10,
                        }],
                    },
                    ticket_types: Vec::new(),
                }],
                currency: "EUR".parse().unwrap(),
                hold_ttl_seconds: TTL as u32,
                max_tickets_per_customer: 6,
                sale_opens_at: None,
                sale_closes_at: None,
                waiting_room: false,
                presales: Vec::new(),
            },
            at(0),
        )
        .unwrap();
        shop
    }

    fn inventory(
        &mut self,
        command: InventoryCommand,
        now: Timestamp,
    ) -> Result<Vec<InventoryEvent>, InventoryError> {
        let events = inventory::decide(&self.inventory, &command, now)?;
        for event in &events {
            self.inventory.apply(event);
        }
        Ok(events)
    }

    fn order(&mut self, command: OrderCommand, now: Timestamp) -> Vec<OrderEvent> {
        let events = ordering::decide(&self.order, &command, now).unwrap();
        self.order = events.iter().fold(self.order.clone(), ordering::evolve);
        events
    }

    fn payment(&mut self, command: PaymentCommand, now: Timestamp) -> Vec<PaymentEvent> {
        let events = payments::decide(&self.payment, &command, now).unwrap();
        self.payment = events.iter().fold(self.payment.clone(), payments::evolve);
        events
    }

    fn hold(&mut self, customer: &CustomerId, seats: &[&str], now: Timestamp) -> HoldId {
        let hold_id = HoldId::derive(event_id(), customer, &key("hold"));
        self.inventory(
            InventoryCommand::PlaceHold(HoldRequest {
                hold_id,
                customer_id: customer.clone(),
                section_id: stalls(),
                selection: Selection::Seats(seats.iter().map(|s| s.parse().unwrap()).collect()),
                admission: None,
                access_code: None,
                type_id: None,
            }),
            now,
        )
        .unwrap();
        hold_id
    }

    /// `POST /orders`: check the hold out, then place the order with the hold's facts.
    fn checkout(&mut self, hold_id: HoldId, now: Timestamp) {
        let checkout = InventoryCommand::CheckoutHold {
            hold_id,
            order_id: self.order_id,
            customer_id: alice(),
        };
        self.inventory(checkout, now).unwrap();
        let hold = self.inventory.hold(&hold_id).unwrap().into_owned();
        let placed = self.order(
            OrderCommand::Place {
                order_id: self.order_id,
                customer_id: hold.customer_id,
                hold_id,
                event_id: hold_id.event(),
                unit_price_minor: self.inventory.price_of(&hold.section_id).unwrap(),
                section_id: hold.section_id,
                seats: hold.seats,
                quantity: hold.quantity,
                currency: self.inventory.currency().unwrap(),
                payment: Preparation::Prepared {
                    gateway_ref: "pi_1".into(),
                },
                expires_at: hold.expires_at,
            },
            now,
        );
        assert_eq!(placed.len(), 1);
    }

    /// The payment reactor charged the gateway and it took the money.
    fn paid(&mut self, now: Timestamp) {
        let order = self.order.order().unwrap().clone();
        let charged = self.payment(
            PaymentCommand::RecordCharge {
                order_id: order.order_id,
                amount_minor: order.total_minor,
                currency: order.currency,
                outcome: ChargeOutcome::Captured {
                    gateway_ref: "ch_1".into(),
                },
            },
            now,
        );
        assert!(matches!(charged[..], [PaymentEvent::ChargeCaptured { .. }]));
        self.order(
            OrderCommand::RecordPaymentCaptured {
                payment_id: PaymentId::for_order(order.order_id),
                amount_minor: order.total_minor,
            },
            now,
        );
    }

    /// The fulfilment reactor on `PaymentCaptured`: sell the seats and confirm, or expire.
    fn fulfil(&mut self, now: Timestamp) {
        let order = self.order.order().unwrap().clone();
        let sell = InventoryCommand::SellHold {
            hold_id: order.hold_id,
            order_id: order.order_id,
        };
        match self.inventory(sell, now) {
            Ok(_) => {
                let tickets = ticket_key().tickets_for(
                    order.event_id,
                    order.order_id,
                    &order.section_id,
                    &order.seats,
                    order.quantity,
                );
                self.order(OrderCommand::Confirm { tickets }, now);
            }
            Err(InventoryError::HoldExpired) => {
                self.order(OrderCommand::Expire, now);
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    /// The refund reactor: refund what the order owes, then record it on the order.
    fn refund(&mut self, now: Timestamp) {
        let due = self.order.refund_due_minor();
        assert!(due > 0);
        self.payment(
            PaymentCommand::Refund {
                idempotency_key: key(&format!("{}:refund", self.order_id)),
                amount_minor: due,
                reason: "order ended".into(),
            },
            now,
        );
        self.order(OrderCommand::RecordRefunded { amount_minor: due }, now);
    }

    fn seat(&self, label: &str, now: Timestamp) -> SeatStatus {
        self.inventory
            .seat_status(&stalls(), &label.parse().unwrap(), now)
            .unwrap()
    }
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn event_id() -> EventId {
    EventId::from_uuid(Uuid::from_u128(0xe1))
}

fn stalls() -> SectionId {
    SectionId::parse("stalls").unwrap()
}

#[test]
fn a_paid_order_gets_its_seats_and_a_cancelled_one_gives_them_and_the_money_back() {
    let mut shop = Shop::open();
    let hold = shop.hold(&alice(), &["A-1", "A-2"], at(0));
    shop.checkout(hold, at(5));
    assert_eq!(
        shop.inventory.hold(&hold).unwrap().status,
        HoldStatus::Ordered {
            order_id: shop.order_id
        }
    );
    shop.paid(at(20));
    shop.fulfil(at(21));
    let order = shop.order.order().unwrap();
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(order.total_minor, 2 * PRICE);
    assert_eq!(order.tickets.len(), 2);
    assert_eq!(
        shop.seat("A-2", at(TTL * 10)),
        SeatStatus::Sold(shop.order_id)
    );

    // The customer cancels: the seats return and the money goes back.
    let order_id = shop.order_id;
    let cancelled = shop.order(
        OrderCommand::Cancel {
            customer_id: alice(),
        },
        at(100),
    );
    assert_eq!(
        cancelled,
        vec![OrderEvent::OrderCancelled {
            refund_due: true,
            event_cancelled: false
        }]
    );
    shop.inventory(InventoryCommand::ReturnSeats { order_id }, at(101))
        .unwrap();
    shop.refund(at(102));
    assert_eq!(shop.order.status(), Some(OrderStatus::Refunded));
    assert_eq!(shop.payment.refundable_minor(), 0);
    assert_eq!(shop.seat("A-1", at(103)), SeatStatus::Available);
}

#[test]
fn a_payment_after_the_hold_ran_out_and_the_seats_went_elsewhere_is_refunded() {
    let mut shop = Shop::open();
    let hold = shop.hold(&alice(), &["A-1", "A-2"], at(0));
    shop.checkout(hold, at(5));
    // The deadline passes; bob takes A-2 before the order's expiry timer fired.
    let bob = CustomerId::parse("bob").unwrap();
    shop.hold(&bob, &["A-2"], at(TTL + 1));
    shop.paid(at(TTL + 30));
    shop.fulfil(at(TTL + 31));
    assert_eq!(shop.order.status(), Some(OrderStatus::Expired));
    shop.refund(at(TTL + 32));
    assert_eq!(shop.order.status(), Some(OrderStatus::Refunded));
    assert!(matches!(
        shop.seat("A-2", at(TTL + 33)),
        SeatStatus::Held(_)
    ));
    assert_eq!(shop.seat("A-1", at(TTL + 33)), SeatStatus::Available);
}

#[test]
fn a_payment_after_the_hold_ran_out_still_buys_seats_nobody_took() {
    let mut shop = Shop::open();
    let hold = shop.hold(&alice(), &["A-1", "A-2"], at(0));
    shop.checkout(hold, at(5));
    shop.paid(at(TTL + 30));
    shop.fulfil(at(TTL + 31));
    assert_eq!(shop.order.status(), Some(OrderStatus::Confirmed));
    assert_eq!(
        shop.seat("A-1", at(TTL + 32)),
        SeatStatus::Sold(shop.order_id)
    );
}

//! The order's decider: which commands an order accepts in which status.
//!
//! Every command is safe to retry: a command whose effect the order already shows (placed with the
//! same facts, paid by the same payment, confirmed with the same tickets, ended the same way,
//! refunded the same amount) decides nothing (`Ok(vec![])`), forever. The same order id with other
//! facts is refused. A check-in is the exception by design: the second scan of a ticket is told
//! `AlreadyCheckedIn` with the first one's time, since the gate must know.

use super::{
    CapturedPayment, Order, OrderCommand, OrderError, OrderEvent, OrderState, OrderStatus,
    PaymentMeans, Preparation, Ticket,
};
use crate::catalog::MAX_TICKETS_PER_CUSTOMER;
use crate::ids::{CustomerId, PaymentId};
use crate::money::MAX_PRICE_MINOR;
use crate::Timestamp;

/// Decide what `command` means for the order in `state` at `now` (which matters for placing an
/// order and expiring one: both are measured against the order's deadline).
pub fn decide(
    state: &OrderState,
    command: &OrderCommand,
    now: Timestamp,
) -> Result<Vec<OrderEvent>, OrderError> {
    let Some(order) = &state.order else {
        return match command {
            OrderCommand::Place { .. } => place(command, now),
            _ => Err(OrderError::UnknownOrder),
        };
    };
    let decided = match command {
        // A retry, even after the deadline; other facts under this order id are another request.
        OrderCommand::Place { .. } => match placed_by(order).as_ref() == Some(command) {
            true => None,
            false => return Err(OrderError::IdempotencyKeyReused),
        },
        OrderCommand::RecordPaymentCaptured {
            payment_id,
            amount_minor,
        } => record_capture(order, *payment_id, *amount_minor)?,
        OrderCommand::RecordPaymentDeclined { reason } => record_decline(order, reason)?,
        OrderCommand::Confirm { tickets } => confirm(order, tickets)?,
        OrderCommand::Expire => expire(order, now)?,
        OrderCommand::Cancel { customer_id } => cancel(order, customer_id)?,
        OrderCommand::CancelForEvent => cancel_for_event(order)?,
        OrderCommand::RecordRefunded { amount_minor } => record_refund(order, *amount_minor)?,
        OrderCommand::CheckIn { code, scanner } => Some(check_in(order, code, scanner, now)?),
    };
    Ok(decided.into_iter().collect())
}

/// Fold one fact into the state. Facts that make no sense in the current status (which `decide`
/// never produces) leave it unchanged, so replaying a log never panics.
pub fn evolve(mut state: OrderState, event: &OrderEvent) -> OrderState {
    use OrderStatus::*;
    let Some(order) = &mut state.order else {
        if let OrderEvent::OrderPlaced { .. } = event {
            state.order = placed(event);
        }
        return state;
    };
    match event {
        OrderEvent::OrderPlaced { .. } => {}
        OrderEvent::PaymentCaptured {
            payment_id,
            amount_minor,
        } => {
            if order.payment.is_none() {
                order.payment = Some(CapturedPayment {
                    payment_id: *payment_id,
                    amount_minor: *amount_minor,
                });
                if order.status == PendingPayment {
                    order.status = Paid;
                }
            }
        }
        OrderEvent::PaymentFailed { reason } => {
            if order.status == PendingPayment {
                order.status = PaymentFailed;
                order.decline_reason = Some(reason.clone());
            }
        }
        OrderEvent::OrderConfirmed { tickets } => {
            if order.status == Paid {
                order.status = Confirmed;
                order.tickets = tickets.clone();
            }
        }
        OrderEvent::OrderExpired { .. } => {
            if matches!(order.status, PendingPayment | Paid) {
                order.status = Expired;
                order.ended_as = Some(Expired);
            }
        }
        OrderEvent::OrderCancelled { .. } => {
            if matches!(order.status, PendingPayment | Confirmed) {
                order.status = Cancelled;
                order.ended_as = Some(Cancelled);
            }
        }
        OrderEvent::OrderRefunded { amount_minor } => {
            if matches!(order.status, Expired | Cancelled) {
                order.status = Refunded;
                order.refunded_minor += amount_minor;
            }
        }
        OrderEvent::TicketCheckedIn {
            code,
            checked_in_at,
            ..
        } => {
            if order.tickets.iter().any(|t| &t.code == code) {
                order
                    .checked_in
                    .entry(code.clone())
                    .or_insert(*checked_in_at);
            }
        }
    }
    state
}

/// The `OrderPlaced` of a first `Place`, once its facts are checked, and its `PaymentFailed` when
/// the gateway refused the means of payment.
fn place(command: &OrderCommand, now: Timestamp) -> Result<Vec<OrderEvent>, OrderError> {
    let OrderCommand::Place {
        order_id,
        customer_id,
        hold_id,
        event_id,
        section_id,
        seats,
        quantity,
        unit_price_minor,
        currency,
        payment,
        expires_at,
    } = command
    else {
        return Err(OrderError::UnknownOrder);
    };
    let invalid = |reason| Err(OrderError::InvalidOrder { reason });
    if hold_id.event() != *event_id {
        return invalid("the hold is not one of this event");
    }
    if *quantity == 0 || *quantity > MAX_TICKETS_PER_CUSTOMER {
        return invalid("the quantity must be between 1 and the largest ticket limit");
    }
    if !seats.is_empty() && seats.len() != *quantity as usize {
        return invalid("name no seat (general admission) or one seat per ticket");
    }
    // Bounds the total too: 100 tickets at the highest price fit an i64 many times over.
    if !(0..=MAX_PRICE_MINOR).contains(unit_price_minor) {
        return invalid("the unit price is out of range");
    }
    let (payment_ref, refused) = match payment {
        Preparation::Prepared { gateway_ref } if gateway_ref.is_empty() => {
            return invalid("the payment's gateway reference is missing")
        }
        Preparation::Refused { reason } if reason.is_empty() => {
            return invalid("the payment's refusal gives no reason")
        }
        Preparation::Prepared { gateway_ref } => (Some(gateway_ref.clone()), None),
        Preparation::Refused { reason } => (None, Some(reason.clone())),
    };
    if *expires_at <= now {
        return Err(OrderError::HoldExpired);
    }
    let placed = OrderEvent::OrderPlaced {
        order_id: *order_id,
        customer_id: customer_id.clone(),
        hold_id: *hold_id,
        event_id: *event_id,
        section_id: section_id.clone(),
        seats: seats.clone(),
        quantity: *quantity,
        unit_price_minor: *unit_price_minor,
        total_minor: unit_price_minor * i64::from(*quantity),
        currency: *currency,
        payment_ref,
        payment_token: None,
        expires_at: *expires_at,
    };
    let failed = refused.map(|reason| OrderEvent::PaymentFailed { reason });
    Ok(std::iter::once(placed).chain(failed).collect())
}

/// The order an `OrderPlaced` starts.
fn placed(event: &OrderEvent) -> Option<Order> {
    let OrderEvent::OrderPlaced {
        order_id,
        customer_id,
        hold_id,
        event_id,
        section_id,
        seats,
        quantity,
        unit_price_minor,
        total_minor,
        currency,
        payment_ref,
        payment_token,
        expires_at,
    } = event
    else {
        return None;
    };
    let payment_means = match (payment_ref, payment_token) {
        (Some(reference), _) => Some(PaymentMeans::GatewayRef(reference.clone())),
        (None, Some(token)) => Some(PaymentMeans::LegacyToken(token.clone())),
        (None, None) => None,
    };
    Some(Order {
        order_id: *order_id,
        customer_id: customer_id.clone(),
        hold_id: *hold_id,
        event_id: *event_id,
        section_id: section_id.clone(),
        seats: seats.clone(),
        quantity: *quantity,
        unit_price_minor: *unit_price_minor,
        total_minor: *total_minor,
        currency: *currency,
        payment_means,
        expires_at: *expires_at,
        status: OrderStatus::PendingPayment,
        payment: None,
        decline_reason: None,
        tickets: Vec::new(),
        refunded_minor: 0,
        ended_as: None,
        checked_in: Default::default(),
    })
}

/// The `Place` this order was placed by; `None` for an order placed with a card token (before
/// references existed), which no `Place` can name any more.
fn placed_by(order: &Order) -> Option<OrderCommand> {
    let payment = match (&order.payment_means, &order.decline_reason) {
        (Some(PaymentMeans::GatewayRef(reference)), _) => Preparation::Prepared {
            gateway_ref: reference.clone(),
        },
        (None, Some(reason)) => Preparation::Refused {
            reason: reason.clone(),
        },
        _ => return None,
    };
    Some(OrderCommand::Place {
        order_id: order.order_id,
        customer_id: order.customer_id.clone(),
        hold_id: order.hold_id,
        event_id: order.event_id,
        section_id: order.section_id.clone(),
        seats: order.seats.clone(),
        quantity: order.quantity,
        unit_price_minor: order.unit_price_minor,
        currency: order.currency,
        payment,
        expires_at: order.expires_at,
    })
}

/// One capture per order, of exactly its total. A capture that arrives after the order expired
/// or was cancelled unpaid is recorded all the same: the money was taken, so it is owed back.
fn record_capture(
    order: &Order,
    payment_id: PaymentId,
    amount_minor: i64,
) -> Result<Option<OrderEvent>, OrderError> {
    if let Some(paid) = &order.payment {
        return match paid.payment_id == payment_id && paid.amount_minor == amount_minor {
            true => Ok(None),
            false => Err(OrderError::AlreadyCaptured {
                payment_id: paid.payment_id,
            }),
        };
    }
    match order.status {
        OrderStatus::PendingPayment | OrderStatus::Expired | OrderStatus::Cancelled => {
            if amount_minor != order.total_minor {
                return Err(OrderError::AmountMismatch {
                    total_minor: order.total_minor,
                    captured_minor: amount_minor,
                });
            }
            Ok(Some(OrderEvent::PaymentCaptured {
                payment_id,
                amount_minor,
            }))
        }
        status => Err(OrderError::InvalidState {
            status,
            action: "paid",
        }),
    }
}

/// A decline fails a pending order. Once the order is over with nothing taken, a decline changes
/// nothing; once money was taken, a decline contradicts it.
fn record_decline(order: &Order, reason: &str) -> Result<Option<OrderEvent>, OrderError> {
    match order.status {
        OrderStatus::PendingPayment => Ok(Some(OrderEvent::PaymentFailed {
            reason: reason.to_owned(),
        })),
        OrderStatus::PaymentFailed => Ok(None),
        OrderStatus::Expired | OrderStatus::Cancelled if order.payment.is_none() => Ok(None),
        status => Err(OrderError::InvalidState {
            status,
            action: "declined",
        }),
    }
}

/// A paid order whose seats were sold gets its tickets: one per place, in its section, on its
/// seats in order, with distinct codes.
fn confirm(order: &Order, tickets: &[Ticket]) -> Result<Option<OrderEvent>, OrderError> {
    if !order.tickets.is_empty() && order.tickets == tickets {
        return Ok(None);
    }
    if order.status != OrderStatus::Paid {
        return Err(OrderError::InvalidState {
            status: order.status,
            action: "confirmed",
        });
    }
    let mut codes = std::collections::HashSet::with_capacity(tickets.len());
    let fits = tickets.len() == order.quantity as usize
        && tickets.iter().enumerate().all(|(i, ticket)| {
            ticket.section_id == order.section_id
                && ticket.seat.as_ref() == order.seats.get(i)
                && codes.insert(ticket.code.as_str())
        });
    match fits {
        true => Ok(Some(OrderEvent::OrderConfirmed {
            tickets: tickets.to_vec(),
        })),
        false => Err(OrderError::TicketsMismatch),
    }
}

/// Unpaid at its deadline, or paid but its seats lost: the order expires. Paid, it owes a refund.
/// A pending order cannot expire before its deadline: its customer may still be paying.
fn expire(order: &Order, now: Timestamp) -> Result<Option<OrderEvent>, OrderError> {
    match order.status {
        OrderStatus::PendingPayment if now < order.expires_at => Err(OrderError::NotDue {
            expires_at: order.expires_at,
        }),
        OrderStatus::PendingPayment | OrderStatus::Paid => Ok(Some(OrderEvent::OrderExpired {
            refund_due: order.captured_minor() > 0,
        })),
        _ if order.ended_as == Some(OrderStatus::Expired) => Ok(None),
        status => Err(OrderError::InvalidState {
            status,
            action: "expired",
        }),
    }
}

/// The customer calls the order off before paying (nothing to give back) or once confirmed (the
/// money goes back, and the application returns the seats). While the payment is being turned
/// into tickets (`paid`), the order cannot be cancelled: try again once it is confirmed.
fn cancel(order: &Order, customer_id: &CustomerId) -> Result<Option<OrderEvent>, OrderError> {
    if &order.customer_id != customer_id {
        return Err(OrderError::NotOwner);
    }
    match order.status {
        OrderStatus::PendingPayment => Ok(Some(OrderEvent::OrderCancelled {
            refund_due: false,
            event_cancelled: false,
        })),
        OrderStatus::Confirmed => Ok(Some(OrderEvent::OrderCancelled {
            refund_due: order.captured_minor() > 0,
            event_cancelled: false,
        })),
        _ if order.ended_as == Some(OrderStatus::Cancelled) => Ok(None),
        status => Err(OrderError::InvalidState {
            status,
            action: "cancelled",
        }),
    }
}

/// The event was called off: a pending or confirmed order is cancelled; one that ended already
/// (cancelled, expired, declined, refunded) decides nothing; a paid one is refused until it
/// settles.
fn cancel_for_event(order: &Order) -> Result<Option<OrderEvent>, OrderError> {
    match order.status {
        OrderStatus::PendingPayment => Ok(Some(OrderEvent::OrderCancelled {
            refund_due: false,
            event_cancelled: true,
        })),
        OrderStatus::Confirmed => Ok(Some(OrderEvent::OrderCancelled {
            refund_due: order.captured_minor() > 0,
            event_cancelled: true,
        })),
        status @ OrderStatus::Paid => Err(OrderError::InvalidState {
            status,
            action: "cancelled while its payment is being settled",
        }),
        _ => Ok(None),
    }
}

/// The one refund of an order that owes one, never more than it captured. The payment decides
/// partial refunds; the order records the refund its payment made and is then `refunded`.
fn record_refund(order: &Order, amount_minor: i64) -> Result<Option<OrderEvent>, OrderError> {
    if amount_minor <= 0 {
        return Err(OrderError::InvalidAmount);
    }
    match order.status {
        OrderStatus::Refunded if amount_minor == order.refunded_minor => Ok(None),
        _ if order.refund_due_minor() > 0 => {
            if amount_minor > order.refund_due_minor() {
                return Err(OrderError::RefundExceedsCapture {
                    captured_minor: order.captured_minor(),
                    requested_minor: amount_minor,
                });
            }
            Ok(Some(OrderEvent::OrderRefunded { amount_minor }))
        }
        status => Err(OrderError::InvalidState {
            status,
            action: "refunded",
        }),
    }
}

/// A ticket of the order is admitted once, while the order stands confirmed. A second scan (a
/// retry, or the loser of two scanners racing, which decides again after the winner's append) is
/// told when the first one was; a ticket of an order cancelled, refunded or expired is void.
fn check_in(
    order: &Order,
    code: &str,
    scanner: &str,
    now: Timestamp,
) -> Result<OrderEvent, OrderError> {
    if !order.tickets.iter().any(|t| t.code == code) {
        return Err(OrderError::UnknownTicket);
    }
    if order.status != OrderStatus::Confirmed {
        return Err(OrderError::TicketVoid {
            status: order.status,
        });
    }
    if let Some(first) = order.checked_in.get(code) {
        return Err(OrderError::AlreadyCheckedIn {
            checked_in_at: *first,
        });
    }
    Ok(OrderEvent::TicketCheckedIn {
        code: code.to_owned(),
        checked_in_at: now,
        scanner: scanner.to_owned(),
    })
}

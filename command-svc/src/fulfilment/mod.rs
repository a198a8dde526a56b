//! Fulfilment: the process manager that takes an order from `OrderPlaced` to its tickets, or to
//! its end and its refund, exactly once.
//!
//! It drives one order at a time through [`Fulfilment::advance`]: load the order and its payment,
//! choose the next step from what they show ([`plan`]), take it, and look again, until nothing is
//! left to do. The steps: charge the gateway by the reference of the payment prepared when the
//! order was placed (the order id is the idempotency key) and record the outcome on `payments.<payment>` and then on the order; sell the hold's seats
//! (`SellHold`) and confirm the order with its tickets; or expire it when the seats are gone and
//! refund it (decided on the payment first, then sent to the gateway with the refund's key, then
//! recorded on the order); give a declined or cancelled order's hold back (`AbandonCheckout`);
//! return a cancelled confirmation's seats (`ReturnSeats`).
//!
//! Exactly once follows from three things: each step is decided against stored facts and decides
//! nothing when its effect is already there; the gateway answers a repeated key with its first
//! answer; and a step is taken again, not skipped, after a crash (the reactor acks a delivery only
//! once `advance` has finished). So a redelivered commit, a second instance, or the cancel
//! handler running `advance` at the same time as the reactor all end in the same facts.
//!
//! The reactor ([`reactor::run`]) feeds `advance` from a durable consumer on the ORDERS stream;
//! `POST /orders/{id}/cancel` calls it too, to settle a cancellation before answering.

mod plan;
pub mod reactor;
mod steps;

use crate::cold::{self, Causes, OrderAggregate, PaymentAggregate};
use crate::inventory::Inventories;
use crate::payments::{ChargeResult, GatewayError, PaymentGateway};
use domain::ids::{OrderId, PaymentId};
use domain::ordering::{OrderStatus, TicketKey};
use plan::Step;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tv_nats::{EventStore, Position, StoreError};

/// The most steps one `advance` takes: a purchase needs at most six; more means a bug, not work.
const MAX_STEPS: usize = 16;

/// A test hook: the process manager stops for good at this point, as a crash would, leaving the
/// rest to a restarted instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltPoint {
    /// The gateway charged the order; nothing is recorded yet.
    AfterCharge,
    /// The capture is recorded on the payment and on the order; the seats are not sold yet.
    AfterCapture,
}

/// Why an order could not be advanced.
#[derive(Debug, thiserror::Error)]
pub enum FulfilmentError {
    /// The store, an inventory writer or the gateway did not answer: try again later; every step
    /// is safe to repeat.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The stored facts contradict each other or a step was refused for good; retrying cannot
    /// help. Logged and counted; needs a person.
    #[error("cannot fulfil the order: {0}")]
    Stuck(String),
    /// The gateway has not settled the order's charge (its reference is given): nothing to do
    /// until it does. The reactor looks again later; the webhook usually comes first.
    #[error("the charge {0} is still pending at the gateway")]
    Pending(String),
    /// The test hook stopped the process manager.
    #[error("halted by a test hook")]
    Halted,
}

impl FulfilmentError {
    /// Worth trying again (with the same idempotency keys).
    pub fn is_transient(&self) -> bool {
        matches!(self, FulfilmentError::Unavailable(_))
    }
}

impl From<StoreError> for FulfilmentError {
    fn from(e: StoreError) -> Self {
        FulfilmentError::Unavailable(e.to_string())
    }
}

impl From<GatewayError> for FulfilmentError {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Unavailable(_) => FulfilmentError::Unavailable(e.to_string()),
            GatewayError::Refused(_) | GatewayError::KeyReused(_) => {
                FulfilmentError::Stuck(e.to_string())
            }
        }
    }
}

/// Where an order stands after `advance`.
#[derive(Debug, Clone)]
pub struct Progress {
    /// `None` when no order has this id.
    pub status: Option<OrderStatus>,
    /// The order's last commit.
    pub position: Position,
}

/// The process manager. Cheap to clone; clones share the halt hook.
#[derive(Clone)]
pub struct Fulfilment {
    store: EventStore,
    inventories: Inventories,
    gateway: Arc<dyn PaymentGateway>,
    /// Signs the codes of the tickets a confirmation issues.
    ticket_key: TicketKey,
    halt_at: Option<HaltPoint>,
    halted: Arc<AtomicBool>,
}

impl Fulfilment {
    pub fn new(
        store: EventStore,
        inventories: Inventories,
        gateway: Arc<dyn PaymentGateway>,
        ticket_key: TicketKey,
        halt_at: Option<HaltPoint>,
    ) -> Self {
        Self {
            store,
            inventories,
            gateway,
            ticket_key,
            halt_at,
            halted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Takes every step the order is ready for, in order, until nothing is left to do for now.
    /// Safe to call any number of times, concurrently, from any instance.
    #[tracing::instrument(skip(self, causes), fields(order = %order_id))]
    pub async fn advance(
        &self,
        order_id: OrderId,
        causes: &Causes,
    ) -> Result<Progress, FulfilmentError> {
        let order_key = order_id.to_string();
        let payment_key = PaymentId::for_order(order_id).to_string();
        let mut looked_up = false;
        for _ in 0..MAX_STEPS {
            if self.halted.load(Ordering::Acquire) {
                return Err(FulfilmentError::Halted);
            }
            let current = cold::load::<OrderAggregate>(&self.store, &order_key).await?;
            let Some(order) = current.state.order() else {
                return Ok(Progress {
                    status: None,
                    position: current.last_position(),
                });
            };
            let payment = cold::load::<PaymentAggregate>(&self.store, &payment_key).await?;
            let now = time::OffsetDateTime::now_utc();
            let step = plan::next_step(order, payment.state.payment(), now, looked_up);
            tracing::debug!(order = %order_id, status = %order.status, ?step, "fulfilment step");
            if step != Step::Done {
                metrics::counter!("tv_fulfilment_steps_total", "step" => step_name(&step))
                    .increment(1);
            }
            let last = step.is_final();
            match step {
                Step::Done => {}
                Step::Charge => self.charge(order, causes).await?,
                Step::AwaitCharge { gateway_ref } => {
                    self.await_charge(order, &gateway_ref, causes).await?
                }
                Step::LookUpCharge => {
                    looked_up = true;
                    self.look_up_charge(order, causes).await?;
                }
                Step::RecordCapture { amount_minor } => {
                    self.record_capture(order, amount_minor, causes).await?;
                    self.halt_if(HaltPoint::AfterCapture)?;
                }
                Step::RecordDecline { reason } => {
                    self.record_decline(order, reason, causes).await?
                }
                Step::Sell => self.sell(order, causes).await?,
                Step::Expire => self.expire(order, causes).await?,
                Step::AbandonHold => self.abandon_hold(order, causes).await?,
                Step::ReturnSeats => self.return_seats(order, causes).await?,
                Step::Refund { return_seats } => {
                    if return_seats {
                        self.return_seats(order, causes).await?;
                    }
                    self.refund(order, causes).await?;
                }
            }
            if last {
                return Ok(Progress {
                    status: Some(order.status),
                    position: current.last_position(),
                });
            }
        }
        Err(FulfilmentError::Stuck(format!(
            "order {order_id} did not settle within {MAX_STEPS} steps"
        )))
    }

    /// The gateway announced the outcome of the order's charge (its webhook): record it on the
    /// payment and advance the order. `None` when no order has this id. The outcome is recorded
    /// only as the payment's rules allow (a capture under the reference the charge was pending
    /// with, once), so an old or repeated announcement changes nothing.
    pub async fn charge_settled(
        &self,
        order_id: OrderId,
        settled: &ChargeResult,
        amount_minor: i64,
        currency: domain::money::Currency,
        causes: &Causes,
    ) -> Result<Option<Progress>, FulfilmentError> {
        let current = cold::load::<OrderAggregate>(&self.store, &order_id.to_string()).await?;
        let Some(order) = current.state.order() else {
            return Ok(None);
        };
        if order.total_minor != amount_minor || order.currency != currency {
            return Err(FulfilmentError::Stuck(format!(
                "the gateway settled {amount_minor} {currency} for order {order_id} of {} {}",
                order.total_minor, order.currency
            )));
        }
        if !matches!(settled, ChargeResult::Pending { .. }) {
            self.record_charge(order, settled.outcome(), causes).await?;
        }
        self.advance(order_id, causes).await.map(Some)
    }

    /// The payment gateway, which the order service also asks when an order is placed.
    pub fn gateway(&self) -> &Arc<dyn PaymentGateway> {
        &self.gateway
    }

    /// True once the test hook stopped the process manager.
    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// The test hook: stop for good here if asked to.
    fn halt_if(&self, point: HaltPoint) -> Result<(), FulfilmentError> {
        if self.halt_at == Some(point) {
            tracing::warn!(?point, "test hook: the fulfilment process manager halts");
            self.halted.store(true, Ordering::Release);
            return Err(FulfilmentError::Halted);
        }
        Ok(())
    }
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Charge => "charge",
        Step::AwaitCharge { .. } => "await_charge",
        Step::LookUpCharge => "look_up_charge",
        Step::RecordCapture { .. } => "record_capture",
        Step::RecordDecline { .. } => "record_decline",
        Step::Sell => "sell",
        Step::Expire => "expire",
        Step::AbandonHold => "abandon_hold",
        Step::ReturnSeats => "return_seats",
        Step::Refund { .. } => "refund",
        Step::Done => "done",
    }
}

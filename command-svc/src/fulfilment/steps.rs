//! The steps of fulfilment, each safe to repeat: what it asks the gateway is keyed, what it
//! appends is decided against the stored facts (a repeat decides nothing), what it asks an
//! inventory is recognised as a retry by the inventory.

use super::{Fulfilment, FulfilmentError, HaltPoint};
use crate::cold::{self, Causes, ColdError, OrderAggregate, PaymentAggregate};
use crate::inventory::CommandError;
use crate::payments::ChargeResult;
use domain::ids::{IdempotencyKey, PaymentId};
use domain::inventory::{InventoryCommand, InventoryError};
use domain::ordering::{Order, OrderCommand, OrderStatus};
use domain::payments::{ChargeOutcome, PaymentCommand, PaymentError};

impl Fulfilment {
    /// Charges the order's total: the payment prepared at placement, by its reference (or, for an
    /// order placed before references existed, its token); records what the gateway said on the
    /// payment (a pending answer too, with the gateway's reference: the next step looks it up).
    pub(super) async fn charge(
        &self,
        order: &Order,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        // Only an order whose means of payment was refused at placement has none, and it failed
        // in the same commit that placed it: a pending one without is a contradiction.
        let means = order.payment_means.as_ref().ok_or_else(|| {
            FulfilmentError::Stuck(format!(
                "order {} is pending with no means of payment",
                order.order_id
            ))
        })?;
        let result = self
            .gateway
            .charge(order.order_id, order.total_minor, order.currency, means)
            .await?;
        metrics::counter!("tv_gateway_charges_total").increment(1);
        self.halt_if(HaltPoint::AfterCharge)?;
        self.record_charge(order, result.outcome(), causes).await
    }

    /// Asks the gateway where a pending charge stands; records its outcome once it has one. Still
    /// pending: `FulfilmentError::Pending`, and the reactor looks again later.
    pub(super) async fn await_charge(
        &self,
        order: &Order,
        gateway_ref: &str,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        match self
            .gateway
            .charge_status(order.order_id, gateway_ref)
            .await?
        {
            ChargeResult::Pending { .. } => Err(FulfilmentError::Pending(gateway_ref.to_owned())),
            settled => self.record_charge(order, settled.outcome(), causes).await,
        }
    }

    /// Asks the gateway whether the order was ever charged; records it if so.
    pub(super) async fn look_up_charge(
        &self,
        order: &Order,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        match self.gateway.find_charge(order.order_id).await? {
            Some(result) => {
                tracing::info!(order = %order.order_id, "found a charge nobody recorded");
                self.record_charge(order, result.outcome(), causes).await
            }
            None => Ok(()),
        }
    }

    /// The payment's one outcome. A different outcome already recorded stands (the next step
    /// carries it to the order); the gateway is idempotent, so that only happens by a bug.
    pub(super) async fn record_charge(
        &self,
        order: &Order,
        outcome: ChargeOutcome,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        let command = PaymentCommand::RecordCharge {
            order_id: order.order_id,
            amount_minor: order.total_minor,
            currency: order.currency,
            outcome,
        };
        let payment = PaymentId::for_order(order.order_id).to_string();
        match cold::execute::<PaymentAggregate>(&self.store, &payment, &command, causes).await {
            Ok(_) => Ok(()),
            Err(ColdError::Rejected(
                rule @ (PaymentError::AlreadyCaptured { .. }
                | PaymentError::AlreadyDeclined
                | PaymentError::AlreadyPending { .. }),
            )) => {
                tracing::error!(order = %order.order_id, %rule, "the gateway changed its answer; the first one stands");
                Ok(())
            }
            Err(e) => Err(failed(e)),
        }
    }

    pub(super) async fn record_capture(
        &self,
        order: &Order,
        amount_minor: i64,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        let command = OrderCommand::RecordPaymentCaptured {
            payment_id: PaymentId::for_order(order.order_id),
            amount_minor,
        };
        self.on_order(order, &command, causes).await
    }

    pub(super) async fn record_decline(
        &self,
        order: &Order,
        reason: String,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        let command = OrderCommand::RecordPaymentDeclined { reason };
        self.on_order(order, &command, causes).await
    }

    /// Sells the hold's seats to the paid order and confirms it with its tickets; when the
    /// inventory refuses (the hold ran out and its seats are gone), the order expires with a
    /// refund due.
    pub(super) async fn sell(&self, order: &Order, causes: &Causes) -> Result<(), FulfilmentError> {
        let sell = InventoryCommand::SellHold {
            hold_id: order.hold_id,
            order_id: order.order_id,
        };
        match self
            .inventories
            .decide(order.event_id, sell, causes.traceparent.clone())
            .await
        {
            Ok(decided) => {
                let mut tickets = self.ticket_key.tickets_for(
                    order.event_id,
                    order.order_id,
                    &order.section_id,
                    &order.seats,
                    order.quantity,
                );
                // Every ticket is of the hold's type.
                for ticket in &mut tickets {
                    ticket.type_id = decided.type_id.clone();
                }
                self.on_order(order, &OrderCommand::Confirm { tickets }, causes)
                    .await
            }
            Err(CommandError::Rejected(rule)) => {
                tracing::info!(order = %order.order_id, %rule, "the seats cannot be sold; the order expires and is refunded");
                metrics::counter!("tv_orders_seats_lost_total").increment(1);
                self.on_order(order, &OrderCommand::Expire, causes).await
            }
            Err(e) => Err(FulfilmentError::Unavailable(e.to_string())),
        }
    }

    /// Unpaid at its deadline: the order expires (its hold expires with it).
    pub(super) async fn expire(
        &self,
        order: &Order,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        self.on_order(order, &OrderCommand::Expire, causes).await
    }

    /// The order will not pay: its hold goes back on sale now.
    pub(super) async fn abandon_hold(
        &self,
        order: &Order,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        let abandon = InventoryCommand::AbandonCheckout {
            hold_id: order.hold_id,
            order_id: order.order_id,
        };
        self.on_inventory(order, abandon, causes).await
    }

    /// A confirmed order was cancelled: its seats go back on sale.
    pub(super) async fn return_seats(
        &self,
        order: &Order,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        let give_back = InventoryCommand::ReturnSeats {
            order_id: order.order_id,
        };
        self.on_inventory(order, give_back, causes).await
    }

    /// Refunds what the order is owed: decided on the payment (under the refund's own key), sent
    /// to the gateway with that key, its reference recorded on the payment, then recorded on the
    /// order.
    pub(super) async fn refund(
        &self,
        order: &Order,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        let ended = order.ended_as.unwrap_or(order.status);
        let key = refund_key(order, ended)?;
        let decide = PaymentCommand::Refund {
            idempotency_key: key.clone(),
            amount_minor: order.refund_due_minor(),
            reason: format!("order {}", ended.as_str()),
        };
        let payment = PaymentId::for_order(order.order_id).to_string();
        let state =
            match cold::execute::<PaymentAggregate>(&self.store, &payment, &decide, causes).await {
                Ok(executed) => executed.current.state,
                // Decided before with another amount: that refund is the one to carry out.
                Err(ColdError::Rejected(PaymentError::IdempotencyKeyReused)) => {
                    cold::load::<PaymentAggregate>(&self.store, &payment)
                        .await?
                        .state
                }
                Err(e) => return Err(failed(e)),
            };
        let (amount_minor, charge_ref) = state
            .payment()
            .and_then(|p| match &p.outcome {
                ChargeOutcome::Captured { gateway_ref } => {
                    Some((p.refund(&key)?.amount_minor, gateway_ref.clone()))
                }
                _ => None,
            })
            .ok_or_else(|| FulfilmentError::Stuck(format!("refund {key} is not on the payment")))?;
        let sent = self
            .gateway
            .refund(
                &key,
                order.order_id,
                &charge_ref,
                amount_minor,
                order.currency,
            )
            .await?;
        metrics::counter!("tv_gateway_refunds_total").increment(1);
        let record = PaymentCommand::RecordRefundSent {
            idempotency_key: key,
            gateway_ref: sent.gateway_ref,
        };
        cold::execute::<PaymentAggregate>(&self.store, &payment, &record, causes)
            .await
            .map_err(failed)?;
        self.on_order(
            order,
            &OrderCommand::RecordRefunded { amount_minor },
            causes,
        )
        .await
    }

    /// One command on the order; a refusal means the facts contradict the plan.
    async fn on_order(
        &self,
        order: &Order,
        command: &OrderCommand,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        cold::execute::<OrderAggregate>(&self.store, &order.order_id.to_string(), command, causes)
            .await
            .map(|_| ())
            .map_err(failed)
    }

    /// One command on the order's inventory. A refusal is logged: these commands only give seats
    /// back, and a refusal means there is nothing to give back (the hold ran out, or nothing was
    /// sold), which is fine.
    async fn on_inventory(
        &self,
        order: &Order,
        command: InventoryCommand,
        causes: &Causes,
    ) -> Result<(), FulfilmentError> {
        match self
            .inventories
            .decide(order.event_id, command, causes.traceparent.clone())
            .await
        {
            Ok(_) => Ok(()),
            Err(CommandError::Rejected(rule)) => {
                if !matches!(rule, InventoryError::UnknownOrder) {
                    tracing::warn!(order = %order.order_id, %rule, "the inventory gave nothing back");
                }
                Ok(())
            }
            Err(e) => Err(FulfilmentError::Unavailable(e.to_string())),
        }
    }
}

/// The key of an order's refund: one refund per way an order ends.
fn refund_key(order: &Order, ended: OrderStatus) -> Result<IdempotencyKey, FulfilmentError> {
    IdempotencyKey::parse(&format!("refund:{}:{}", order.order_id, ended.as_str()))
        .map_err(|e| FulfilmentError::Stuck(e.to_string()))
}

fn failed<E: std::fmt::Display>(e: ColdError<E>) -> FulfilmentError {
    match e {
        ColdError::Unavailable(reason) => FulfilmentError::Unavailable(reason),
        ColdError::Rejected(rule) => FulfilmentError::Stuck(rule.to_string()),
    }
}

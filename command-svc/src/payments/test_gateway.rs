//! A payment gateway for development and tests, with the behaviour of a real one where it matters:
//! idempotent per key, sometimes slow, sometimes unreachable.
//!
//! Tokens: `tok_ok` is charged, `tok_decline` is declined, `tok_slow` is charged after a delay
//! (`slow_delay`, 2 s by default); any other token is declined as unknown. Every call takes
//! `latency`, and fails with `Unavailable` at `failure_rate`: half of those failures lose the
//! request (nothing happens), half lose the answer (the charge or refund happened). The gateway
//! remembers every charge by order id and every refund by its key, so a retry returns the first
//! answer and never moves money twice. It also counts, for tests, what was asked and what moved.

use super::gateway::{ChargeResult, GatewayError, PaymentGateway, RefundResult};
use async_trait::async_trait;
use domain::ids::{IdempotencyKey, OrderId};
use domain::money::Currency;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// A token the test gateway charges.
pub const TOKEN_OK: &str = "tok_ok";
/// A token the test gateway declines.
pub const TOKEN_DECLINE: &str = "tok_decline";
/// A token the test gateway charges after `slow_delay`.
pub const TOKEN_SLOW: &str = "tok_slow";

/// How the test gateway behaves.
#[derive(Debug, Clone)]
pub struct TestGatewaySettings {
    /// Added to every call.
    pub latency: Duration,
    /// How long a `tok_slow` charge takes (on top of `latency`).
    pub slow_delay: Duration,
    /// The share of calls (0 to 1) that end without an answer.
    pub failure_rate: f64,
}

impl Default for TestGatewaySettings {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            slow_delay: Duration::from_secs(2),
            failure_rate: 0.0,
        }
    }
}

#[derive(Debug, Clone)]
struct Charge {
    result: ChargeResult,
    amount_minor: i64,
    currency: Currency,
}

#[derive(Debug, Clone)]
struct Refund {
    order: OrderId,
    amount_minor: i64,
    result: RefundResult,
}

#[derive(Debug, Default)]
struct Ledger {
    charges: HashMap<OrderId, Charge>,
    refunds: HashMap<IdempotencyKey, Refund>,
    charge_calls: HashMap<OrderId, u32>,
    refund_calls: HashMap<OrderId, u32>,
    next_ref: u64,
}

impl Ledger {
    fn next_ref(&mut self, kind: &str) -> String {
        self.next_ref += 1;
        format!("{kind}_{:06}", self.next_ref)
    }
}

/// The test gateway. Share one (in an `Arc`) between service instances and restarts to play one
/// external gateway.
#[derive(Debug, Default)]
pub struct TestGateway {
    settings: TestGatewaySettings,
    ledger: Mutex<Ledger>,
}

/// Where an injected failure strikes.
enum Failure {
    None,
    RequestLost,
    AnswerLost,
}

impl TestGateway {
    pub fn new(settings: TestGatewaySettings) -> Self {
        Self {
            settings,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().expect("the test gateway's ledger")
    }

    fn draw_failure(&self) -> Failure {
        let rate = self.settings.failure_rate.clamp(0.0, 1.0);
        if rate == 0.0 {
            return Failure::None;
        }
        let draw: f64 = rand::random();
        match draw {
            d if d < rate / 2.0 => Failure::RequestLost,
            d if d < rate => Failure::AnswerLost,
            _ => Failure::None,
        }
    }

    async fn wait(&self, extra: Duration) {
        let total = self.settings.latency + extra;
        if !total.is_zero() {
            tokio::time::sleep(total).await;
        }
    }

    /// What the gateway says to a new charge with this token.
    fn answer_to(&self, ledger: &mut Ledger, token: &str) -> ChargeResult {
        match token {
            TOKEN_OK | TOKEN_SLOW => ChargeResult::Captured {
                gateway_ref: ledger.next_ref("ch"),
            },
            TOKEN_DECLINE => ChargeResult::Declined {
                reason: "card_declined".into(),
            },
            _ => ChargeResult::Declined {
                reason: "unknown_token".into(),
            },
        }
    }

    // ---- what tests read

    /// Charges actually made for the order (0 or 1: the gateway keys them by order).
    pub fn charges_captured(&self, order: OrderId) -> usize {
        let ledger = self.ledger();
        ledger.charges.get(&order).map_or(0, |c| {
            usize::from(matches!(c.result, ChargeResult::Captured { .. }))
        })
    }

    /// The money taken for the order.
    pub fn captured_minor(&self, order: OrderId) -> i64 {
        let ledger = self.ledger();
        match ledger.charges.get(&order) {
            Some(Charge {
                result: ChargeResult::Captured { .. },
                amount_minor,
                ..
            }) => *amount_minor,
            _ => 0,
        }
    }

    /// How many charge calls the order got (retries included).
    pub fn charge_calls(&self, order: OrderId) -> u32 {
        self.ledger().charge_calls.get(&order).copied().unwrap_or(0)
    }

    /// Refunds actually made for the order.
    pub fn refunds_made(&self, order: OrderId) -> usize {
        let ledger = self.ledger();
        ledger.refunds.values().filter(|r| r.order == order).count()
    }

    /// The money given back for the order.
    pub fn refunded_minor(&self, order: OrderId) -> i64 {
        let ledger = self.ledger();
        ledger
            .refunds
            .values()
            .filter(|r| r.order == order)
            .map(|r| r.amount_minor)
            .sum()
    }

    /// How many refund calls the order got (retries included).
    pub fn refund_calls(&self, order: OrderId) -> u32 {
        self.ledger().refund_calls.get(&order).copied().unwrap_or(0)
    }
}

#[async_trait]
impl PaymentGateway for TestGateway {
    async fn charge(
        &self,
        idempotency_key: OrderId,
        amount_minor: i64,
        currency: Currency,
        token: &str,
    ) -> Result<ChargeResult, GatewayError> {
        let failure = self.draw_failure();
        let slow = if token == TOKEN_SLOW {
            self.settings.slow_delay
        } else {
            Duration::ZERO
        };
        if let Failure::RequestLost = failure {
            self.wait(Duration::ZERO).await;
            return Err(GatewayError::Unavailable("injected: request lost".into()));
        }
        // Decided (and remembered) on arrival, answered after the delay: a retry or a look-up
        // that comes meanwhile sees the same charge.
        let result = {
            let mut ledger = self.ledger();
            *ledger.charge_calls.entry(idempotency_key).or_default() += 1;
            match ledger.charges.get(&idempotency_key) {
                Some(first) if first.amount_minor != amount_minor || first.currency != currency => {
                    return Err(GatewayError::Refused(format!(
                        "order {idempotency_key} was charged {} {} before",
                        first.amount_minor, first.currency
                    )));
                }
                Some(first) => first.result.clone(),
                None => {
                    let result = self.answer_to(&mut ledger, token);
                    ledger.charges.insert(
                        idempotency_key,
                        Charge {
                            result: result.clone(),
                            amount_minor,
                            currency,
                        },
                    );
                    result
                }
            }
        };
        self.wait(slow).await;
        match failure {
            Failure::AnswerLost => Err(GatewayError::Unavailable("injected: answer lost".into())),
            _ => Ok(result),
        }
    }

    /// The test gateway settles every charge at once: its status is its first answer.
    async fn charge_status(
        &self,
        idempotency_key: OrderId,
        _gateway_ref: &str,
    ) -> Result<ChargeResult, GatewayError> {
        self.find_charge(idempotency_key)
            .await?
            .ok_or_else(|| GatewayError::Refused(format!("no charge for {idempotency_key}")))
    }

    async fn refund(
        &self,
        idempotency_key: &IdempotencyKey,
        charge: OrderId,
        _charge_ref: &str,
        amount_minor: i64,
        currency: Currency,
    ) -> Result<RefundResult, GatewayError> {
        let failure = self.draw_failure();
        self.wait(Duration::ZERO).await;
        if let Failure::RequestLost = failure {
            return Err(GatewayError::Unavailable("injected: request lost".into()));
        }
        let result = {
            let mut ledger = self.ledger();
            *ledger.refund_calls.entry(charge).or_default() += 1;
            if let Some(first) = ledger.refunds.get(idempotency_key) {
                if first.order != charge || first.amount_minor != amount_minor {
                    return Err(GatewayError::Refused(format!(
                        "refund {idempotency_key} was made with other details"
                    )));
                }
                first.result.clone()
            } else {
                let captured = match ledger.charges.get(&charge) {
                    Some(Charge {
                        result: ChargeResult::Captured { .. },
                        amount_minor,
                        currency: charged_in,
                    }) if *charged_in == currency => *amount_minor,
                    _ => {
                        return Err(GatewayError::Refused(format!(
                            "order {charge} has no capture in {currency} to refund"
                        )))
                    }
                };
                let refunded: i64 = ledger
                    .refunds
                    .values()
                    .filter(|r| r.order == charge)
                    .map(|r| r.amount_minor)
                    .sum();
                if amount_minor <= 0 || refunded + amount_minor > captured {
                    return Err(GatewayError::Refused(format!(
                        "a refund of {amount_minor} with {refunded} refunded exceeds the \
                         {captured} captured"
                    )));
                }
                let result = RefundResult {
                    gateway_ref: ledger.next_ref("re"),
                };
                ledger.refunds.insert(
                    idempotency_key.clone(),
                    Refund {
                        order: charge,
                        amount_minor,
                        result: result.clone(),
                    },
                );
                result
            }
        };
        match failure {
            Failure::AnswerLost => Err(GatewayError::Unavailable("injected: answer lost".into())),
            _ => Ok(result),
        }
    }

    async fn find_charge(
        &self,
        idempotency_key: OrderId,
    ) -> Result<Option<ChargeResult>, GatewayError> {
        self.wait(Duration::ZERO).await;
        Ok(self
            .ledger()
            .charges
            .get(&idempotency_key)
            .map(|c| c.result.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        "EUR".parse().unwrap()
    }

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text).unwrap()
    }

    #[tokio::test]
    async fn a_retried_charge_returns_the_first_answer_and_charges_once() {
        let gateway = TestGateway::default();
        let order = OrderId::new_random();
        let first = gateway.charge(order, 900, eur(), TOKEN_OK).await.unwrap();
        let again = gateway.charge(order, 900, eur(), TOKEN_OK).await.unwrap();
        assert_eq!(first, again);
        assert!(matches!(first, ChargeResult::Captured { .. }));
        assert_eq!(gateway.charges_captured(order), 1);
        assert_eq!(gateway.charge_calls(order), 2);
        assert_eq!(gateway.captured_minor(order), 900);
        assert_eq!(gateway.find_charge(order).await.unwrap(), Some(first));
        // The same key with another amount is refused, not charged.
        assert!(matches!(
            gateway.charge(order, 901, eur(), TOKEN_OK).await,
            Err(GatewayError::Refused(_))
        ));
    }

    #[tokio::test]
    async fn tokens_decide_the_answer() {
        let gateway = TestGateway::new(TestGatewaySettings {
            slow_delay: Duration::from_millis(50),
            ..TestGatewaySettings::default()
        });
        let declined = gateway
            .charge(OrderId::new_random(), 100, eur(), TOKEN_DECLINE)
            .await
            .unwrap();
        assert_eq!(
            declined,
            ChargeResult::Declined {
                reason: "card_declined".into()
            }
        );
        let started = std::time::Instant::now();
        let slow = gateway
            .charge(OrderId::new_random(), 100, eur(), TOKEN_SLOW)
            .await
            .unwrap();
        assert!(matches!(slow, ChargeResult::Captured { .. }));
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(matches!(
            gateway
                .charge(OrderId::new_random(), 100, eur(), "tok_other")
                .await
                .unwrap(),
            ChargeResult::Declined { .. }
        ));
        assert_eq!(
            gateway.find_charge(OrderId::new_random()).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn refunds_are_once_per_key_and_never_exceed_the_capture() {
        let gateway = TestGateway::default();
        let order = OrderId::new_random();
        gateway.charge(order, 1_000, eur(), TOKEN_OK).await.unwrap();
        let first = gateway
            .refund(&key("r1"), order, "ch", 600, eur())
            .await
            .unwrap();
        let again = gateway
            .refund(&key("r1"), order, "ch", 600, eur())
            .await
            .unwrap();
        assert_eq!(first, again);
        assert!(matches!(
            gateway.refund(&key("r2"), order, "ch", 500, eur()).await,
            Err(GatewayError::Refused(_))
        ));
        gateway
            .refund(&key("r3"), order, "ch", 400, eur())
            .await
            .unwrap();
        assert_eq!(gateway.refunded_minor(order), 1_000);
        assert_eq!(gateway.refunds_made(order), 2);
        let never_charged = OrderId::new_random();
        assert!(matches!(
            gateway
                .refund(&key("r4"), never_charged, "ch", 1, eur())
                .await,
            Err(GatewayError::Refused(_))
        ));
    }

    #[tokio::test]
    async fn injected_failures_never_move_money_twice() {
        let gateway = TestGateway::new(TestGatewaySettings {
            failure_rate: 0.6,
            ..TestGatewaySettings::default()
        });
        let order = OrderId::new_random();
        let mut answered = None;
        for _ in 0..200 {
            if let Ok(result) = gateway.charge(order, 700, eur(), TOKEN_OK).await {
                answered = Some(result);
                break;
            }
        }
        assert!(answered.is_some(), "some call got through");
        assert_eq!(gateway.charges_captured(order), 1);
        for _ in 0..200 {
            if gateway
                .refund(&key("r"), order, "ch", 700, eur())
                .await
                .is_ok()
            {
                break;
            }
        }
        assert_eq!(gateway.refunded_minor(order), 700);
        assert_eq!(gateway.refunds_made(order), 1);
    }
}

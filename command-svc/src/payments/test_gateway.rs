//! A payment gateway for development and tests, with the behaviour of a real one where it matters:
//! idempotent per key, sometimes slow, sometimes unreachable.
//!
//! Tokens: `tok_ok` is charged, `tok_decline` is declined, `tok_slow` is charged after a delay
//! (`slow_delay`, 2 s by default); any other token is refused when the order is placed. Preparing
//! a payment answers a reference that names the token's behaviour and the order
//! (`pi_ok_<order>`, `pi_decline_<order>`, `pi_slow_<order>`): a charge by reference behaves as
//! the token would, and the reference means the same after a restart of command-svc, or to
//! another instance, with no token kept anywhere but here.
//!
//! Every call takes `latency`; every call that moves money (a charge, a refund) fails with
//! `Unavailable` at `failure_rate`: half of those failures lose the request (nothing happens),
//! half lose the answer (the charge or refund happened). Preparing moves no money and does not
//! fail: the failures of placement are tested against the HTTPS adapter's fake gateway. The
//! gateway remembers every preparation and charge by order id and every refund by its key, so a
//! retry returns the first answer and never moves money twice; another token for a prepared
//! order is refused as a reused key. It also counts, for tests, what was asked and what moved.

use super::gateway::{ChargeResult, GatewayError, PaymentGateway, RefundResult};
use super::CardToken;
use async_trait::async_trait;
use domain::ids::{IdempotencyKey, OrderId};
use domain::money::Currency;
use domain::ordering::{PaymentMeans, Preparation};
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

/// A payment prepared at placement, with the token it was prepared with (the gateway's to keep).
#[derive(Debug, Clone)]
struct Prepared {
    token: String,
    amount_minor: i64,
    currency: Currency,
    result: Preparation,
}

#[derive(Debug, Clone)]
struct Refund {
    order: OrderId,
    amount_minor: i64,
    result: RefundResult,
}

#[derive(Debug, Default)]
struct Ledger {
    prepared: HashMap<OrderId, Prepared>,
    prepare_calls: HashMap<OrderId, u32>,
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

/// What a token does when charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Charge,
    Decline,
    Slow,
}

impl Behaviour {
    fn of_token(token: &str) -> Option<Self> {
        match token {
            TOKEN_OK => Some(Self::Charge),
            TOKEN_DECLINE => Some(Self::Decline),
            TOKEN_SLOW => Some(Self::Slow),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Charge => "ok",
            Self::Decline => "decline",
            Self::Slow => "slow",
        }
    }

    /// The reference of the order's payment prepared with a token of this behaviour.
    fn reference(self, order: OrderId) -> String {
        format!("pi_{}_{}", self.name(), order.to_string().replace('-', ""))
    }

    /// The behaviour a reference names; `None` for one this gateway never gave.
    fn of_reference(reference: &str) -> Option<Self> {
        let name = reference.strip_prefix("pi_")?.split('_').next()?;
        [Self::Charge, Self::Decline, Self::Slow]
            .into_iter()
            .find(|b| b.name() == name)
    }

    /// What a charged means of payment behaves as; `None`: unknown to this gateway.
    fn of_means(means: &PaymentMeans) -> Option<Self> {
        match means {
            PaymentMeans::GatewayRef(reference) => Self::of_reference(reference),
            PaymentMeans::LegacyToken(token) => Self::of_token(token),
        }
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

    /// What the gateway says to a new charge of a means of payment that behaves so.
    fn answer_to(&self, ledger: &mut Ledger, behaviour: Option<Behaviour>) -> ChargeResult {
        match behaviour {
            Some(Behaviour::Charge | Behaviour::Slow) => ChargeResult::Captured {
                gateway_ref: ledger.next_ref("ch"),
            },
            Some(Behaviour::Decline) => ChargeResult::Declined {
                reason: "card_declined".into(),
            },
            None => ChargeResult::Declined {
                reason: "unknown_payment".into(),
            },
        }
    }

    // ---- what tests read

    /// How many times a payment was prepared for the order (retries included).
    pub fn prepare_calls(&self, order: OrderId) -> u32 {
        self.ledger()
            .prepare_calls
            .get(&order)
            .copied()
            .unwrap_or(0)
    }

    /// The reference of the payment prepared for the order, if one was.
    pub fn prepared_ref(&self, order: OrderId) -> Option<String> {
        match &self.ledger().prepared.get(&order)?.result {
            Preparation::Prepared { gateway_ref } => Some(gateway_ref.clone()),
            Preparation::Refused { .. } => None,
        }
    }

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
    async fn prepare(
        &self,
        idempotency_key: OrderId,
        amount_minor: i64,
        currency: Currency,
        token: &CardToken,
    ) -> Result<Preparation, GatewayError> {
        self.wait(Duration::ZERO).await;
        let mut ledger = self.ledger();
        *ledger.prepare_calls.entry(idempotency_key).or_default() += 1;
        if let Some(first) = ledger.prepared.get(&idempotency_key) {
            let same = first.token == token.expose()
                && first.amount_minor == amount_minor
                && first.currency == currency;
            return match same {
                true => Ok(first.result.clone()),
                false => Err(GatewayError::KeyReused(format!(
                    "a payment was prepared for order {idempotency_key} with another request"
                ))),
            };
        }
        let result = match Behaviour::of_token(token.expose()) {
            Some(behaviour) => Preparation::Prepared {
                gateway_ref: behaviour.reference(idempotency_key),
            },
            None => Preparation::Refused {
                reason: "unknown_token".into(),
            },
        };
        ledger.prepared.insert(
            idempotency_key,
            Prepared {
                token: token.expose().to_owned(),
                amount_minor,
                currency,
                result: result.clone(),
            },
        );
        Ok(result)
    }

    async fn charge(
        &self,
        idempotency_key: OrderId,
        amount_minor: i64,
        currency: Currency,
        means: &PaymentMeans,
    ) -> Result<ChargeResult, GatewayError> {
        let failure = self.draw_failure();
        let behaviour = Behaviour::of_means(means);
        let slow = if behaviour == Some(Behaviour::Slow) {
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
                    let result = self.answer_to(&mut ledger, behaviour);
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

    fn token(text: &str) -> CardToken {
        CardToken::parse(text).unwrap()
    }

    /// The reference of a payment of `amount` prepared for `order` with `with`.
    async fn prepared(
        gateway: &TestGateway,
        order: OrderId,
        amount: i64,
        with: &str,
    ) -> PaymentMeans {
        match gateway
            .prepare(order, amount, eur(), &token(with))
            .await
            .unwrap()
        {
            Preparation::Prepared { gateway_ref } => PaymentMeans::GatewayRef(gateway_ref),
            refused => panic!("{with} was refused: {refused:?}"),
        }
    }

    #[tokio::test]
    async fn a_token_becomes_a_reference_once_per_order_and_an_unknown_one_is_refused() {
        let gateway = TestGateway::default();
        let order = OrderId::new_random();
        let first = prepared(&gateway, order, 900, TOKEN_OK).await;
        let again = prepared(&gateway, order, 900, TOKEN_OK).await;
        assert_eq!(first, again);
        let reference = first.gateway_ref().unwrap();
        assert!(!reference.contains(TOKEN_OK), "{reference}");
        assert_eq!(gateway.prepare_calls(order), 2);
        assert_eq!(gateway.prepared_ref(order).as_deref(), Some(reference));
        // Another token, or another amount, under the same order: a reused key.
        for (amount, other) in [(900, TOKEN_DECLINE), (901, TOKEN_OK)] {
            assert!(matches!(
                gateway.prepare(order, amount, eur(), &token(other)).await,
                Err(GatewayError::KeyReused(_))
            ));
        }
        assert_eq!(
            gateway
                .prepare(OrderId::new_random(), 900, eur(), &token("tok_other"))
                .await
                .unwrap(),
            Preparation::Refused {
                reason: "unknown_token".into()
            }
        );
        assert_eq!(
            gateway.charges_captured(order),
            0,
            "preparing charges nothing"
        );
        // The reference means the same to another instance of the gateway (a restart).
        let restarted = TestGateway::default();
        assert!(matches!(
            restarted.charge(order, 900, eur(), &first).await.unwrap(),
            ChargeResult::Captured { .. }
        ));
    }

    #[tokio::test]
    async fn an_order_placed_with_a_token_is_charged_with_it() {
        let gateway = TestGateway::default();
        let order = OrderId::new_random();
        let legacy = PaymentMeans::LegacyToken(TOKEN_OK.into());
        let charged = gateway.charge(order, 900, eur(), &legacy).await.unwrap();
        assert!(matches!(charged, ChargeResult::Captured { .. }));
        let declined = PaymentMeans::LegacyToken(TOKEN_DECLINE.into());
        assert!(matches!(
            gateway
                .charge(OrderId::new_random(), 900, eur(), &declined)
                .await
                .unwrap(),
            ChargeResult::Declined { .. }
        ));
        assert_eq!(gateway.charges_captured(order), 1);
    }

    #[tokio::test]
    async fn a_retried_charge_returns_the_first_answer_and_charges_once() {
        let gateway = TestGateway::default();
        let order = OrderId::new_random();
        let means = prepared(&gateway, order, 900, TOKEN_OK).await;
        let first = gateway.charge(order, 900, eur(), &means).await.unwrap();
        let again = gateway.charge(order, 900, eur(), &means).await.unwrap();
        assert_eq!(first, again);
        assert!(matches!(first, ChargeResult::Captured { .. }));
        assert_eq!(gateway.charges_captured(order), 1);
        assert_eq!(gateway.charge_calls(order), 2);
        assert_eq!(gateway.captured_minor(order), 900);
        assert_eq!(gateway.find_charge(order).await.unwrap(), Some(first));
        // The same key with another amount is refused, not charged.
        assert!(matches!(
            gateway.charge(order, 901, eur(), &means).await,
            Err(GatewayError::Refused(_))
        ));
    }

    #[tokio::test]
    async fn tokens_decide_the_answer() {
        let gateway = TestGateway::new(TestGatewaySettings {
            slow_delay: Duration::from_millis(50),
            ..TestGatewaySettings::default()
        });
        let order = OrderId::new_random();
        let means = prepared(&gateway, order, 100, TOKEN_DECLINE).await;
        let declined = gateway.charge(order, 100, eur(), &means).await.unwrap();
        assert_eq!(
            declined,
            ChargeResult::Declined {
                reason: "card_declined".into()
            }
        );
        let order = OrderId::new_random();
        let means = prepared(&gateway, order, 100, TOKEN_SLOW).await;
        let started = std::time::Instant::now();
        let slow = gateway.charge(order, 100, eur(), &means).await.unwrap();
        assert!(matches!(slow, ChargeResult::Captured { .. }));
        assert!(started.elapsed() >= Duration::from_millis(50));
        let unknown = PaymentMeans::GatewayRef("pi_other_1".into());
        assert!(matches!(
            gateway
                .charge(OrderId::new_random(), 100, eur(), &unknown)
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
        let means = prepared(&gateway, order, 1_000, TOKEN_OK).await;
        gateway.charge(order, 1_000, eur(), &means).await.unwrap();
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
        let means = prepared(&gateway, order, 700, TOKEN_OK).await;
        let mut answered = None;
        for _ in 0..200 {
            if let Ok(result) = gateway.charge(order, 700, eur(), &means).await {
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

//! Join rate limits, per customer and per client address (IPv6 by /64), kept in this instance's
//! memory (a customer hammering several instances gets each one's allowance; the place is one
//! anyway). The limits are the service kit's (`tv_kit::rate`), which keep about a bounded number
//! of keys whatever the flood; idle keys are also forgotten by [`JoinLimits::forget_idle`],
//! called periodically.

use domain::ids::CustomerId;
use std::net::IpAddr;
use std::time::Duration;
use tv_kit::rate::{client_key, KeyedLimit, DEFAULT_MAX_KEYS};

pub struct JoinLimits {
    customers: KeyedLimit<String>,
    addresses: KeyedLimit<IpAddr>,
}

impl JoinLimits {
    /// `per_customer` and `per_address` joins a second, with bursts of twice that.
    pub fn new(per_customer: u32, per_address: u32) -> Self {
        Self {
            customers: KeyedLimit::new(per_customer, DEFAULT_MAX_KEYS),
            addresses: KeyedLimit::new(per_address, DEFAULT_MAX_KEYS),
        }
    }

    /// `Err(wait)` when this join is over a limit: the client may try again after `wait`.
    pub fn check(&self, customer: &CustomerId, address: IpAddr) -> Result<(), Duration> {
        self.addresses.check(&client_key(address))?;
        self.customers.check(&customer.as_str().to_owned())
    }

    /// Forgets the keys whose allowance is full again.
    pub fn forget_idle(&self) {
        self.customers.forget_idle();
        self.addresses.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_over_the_customer_limit_is_refused_with_a_wait() {
        let limits = JoinLimits::new(2, 1_000);
        let ann = CustomerId::parse("ann").unwrap();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..4).all(|_| limits.check(&ann, address).is_ok()));
        let wait = limits.check(&ann, address).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another customer from the same address is not held back by Ann.
        let bob = CustomerId::parse("bob").unwrap();
        assert!(limits.check(&bob, address).is_ok());
    }

    #[test]
    fn an_address_over_its_limit_is_refused_whoever_it_claims_to_be() {
        let limits = JoinLimits::new(1_000, 1);
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        let refused = (0..10)
            .filter(|i| {
                let customer = CustomerId::parse(&format!("c{i}")).unwrap();
                limits.check(&customer, address).is_err()
            })
            .count();
        assert_eq!(refused, 8, "a burst of 2 passes, the rest wait");
    }
}

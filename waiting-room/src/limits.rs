//! Join rate limits, per customer and per client address, kept in this instance's memory (a
//! customer hammering several instances gets each one's allowance; the place is one anyway). Keys
//! not seen for a while are forgotten by [`JoinLimits::forget_idle`], called periodically.

use domain::ids::CustomerId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

pub struct JoinLimits {
    customers: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

/// `per_second` a second, with bursts of twice that.
fn quota(per_second: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).expect("at least 1");
    let burst = NonZeroU32::new(per_second.max(1).saturating_mul(2)).expect("at least 2");
    Quota::per_second(rate).allow_burst(burst)
}

impl JoinLimits {
    pub fn new(per_customer: u32, per_address: u32) -> Self {
        Self {
            customers: RateLimiter::keyed(quota(per_customer)),
            addresses: RateLimiter::keyed(quota(per_address)),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when this join is over a limit: the client may try again after `wait`.
    pub fn check(&self, customer: &CustomerId, address: IpAddr) -> Result<(), Duration> {
        self.addresses
            .check_key(&address)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))?;
        self.customers
            .check_key(&customer.as_str().to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets the keys whose allowance is full again.
    pub fn forget_idle(&self) {
        self.customers.retain_recent();
        self.addresses.retain_recent();
        self.customers.shrink_to_fit();
        self.addresses.shrink_to_fit();
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

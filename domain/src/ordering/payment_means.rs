//! What an order is charged with, and what the gateway made of the customer's means of payment
//! when the order was placed.
//!
//! The card token a customer sends is exchanged with the gateway for the gateway's own reference
//! (a payment intent) before the order is placed, so `OrderPlaced` carries that reference and never
//! the token: the stream is forever, and a token on it is a means of payment anyone who reads the
//! stream could present. Orders placed before references existed carry the token itself; they are
//! still read and charged with it ([`PaymentMeans::LegacyToken`]), but nothing writes one any more.

use std::fmt;

/// How an order's charge is made, as its `OrderPlaced` says.
#[derive(Clone, PartialEq, Eq)]
pub enum PaymentMeans {
    /// The gateway's reference of the payment it prepared when the order was placed (a payment
    /// intent, `pi_…`): the charge confirms it.
    GatewayRef(String),
    /// An order placed before references existed: the card token itself, charged as it was then.
    /// Only read from old facts; never decided.
    LegacyToken(String),
}

impl PaymentMeans {
    /// The gateway's reference, when the order has one.
    pub fn gateway_ref(&self) -> Option<&str> {
        match self {
            Self::GatewayRef(reference) => Some(reference),
            Self::LegacyToken(_) => None,
        }
    }
}

/// A legacy token is a means of payment: it never shows in a log line or an error.
impl fmt::Debug for PaymentMeans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GatewayRef(reference) => f.debug_tuple("GatewayRef").field(reference).finish(),
            Self::LegacyToken(_) => f.write_str("LegacyToken(<redacted>)"),
        }
    }
}

/// What the gateway answered when the order's means of payment was presented to it, before the
/// order was placed: the order is placed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preparation {
    /// The gateway prepared the payment (a payment intent, not yet confirmed: no money moved) and
    /// `gateway_ref` names it.
    Prepared { gateway_ref: String },
    /// The gateway refused the means of payment (an unknown, expired or used token): the order is
    /// placed failed, and its hold goes back on sale.
    Refused { reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_token_never_shows_in_debug() {
        let token = PaymentMeans::LegacyToken("tok_secret_card".into());
        assert!(!format!("{token:?}").contains("tok_secret_card"));
        let reference = PaymentMeans::GatewayRef("pi_123".into());
        assert!(format!("{reference:?}").contains("pi_123"));
        assert_eq!(reference.gateway_ref(), Some("pi_123"));
        assert_eq!(token.gateway_ref(), None);
    }
}

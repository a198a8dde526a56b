//! The card token a customer pays with, as `POST /orders` receives it: an opaque reference the
//! gateway issued for the card (never card data), good for one exchange with the gateway.
//!
//! It lives only as long as the request: the order service hands it to the gateway, which
//! answers with its own reference of the payment it prepared, and that reference is what is
//! stored. So the type has no `Display`, no `Serialize`, and a `Debug` that prints nothing of it:
//! a token cannot reach a log line, a span, an error or a stream by accident.

use std::fmt;

/// The longest token accepted (gateway tokens are short opaque references).
pub const MAX_TOKEN_LEN: usize = 200;

/// A customer's card token: 1 to [`MAX_TOKEN_LEN`] visible ASCII characters.
#[derive(Clone, PartialEq, Eq)]
pub struct CardToken(String);

/// Why a text is not a card token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a payment token is 1 to {MAX_TOKEN_LEN} visible ASCII characters")]
pub struct InvalidCardToken;

impl CardToken {
    pub fn parse(text: &str) -> Result<Self, InvalidCardToken> {
        let valid = !text.is_empty()
            && text.len() <= MAX_TOKEN_LEN
            && text.chars().all(|c| c.is_ascii_graphic());
        match valid {
            true => Ok(Self(text.to_owned())),
            false => Err(InvalidCardToken),
        }
    }

    /// The token itself, for the one request that hands it to the gateway (and for comparing
    /// with a token of an order placed before references existed).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_short_visible_ascii_and_never_printed() {
        let token = CardToken::parse("tok_visa_4242").unwrap();
        assert_eq!(token.expose(), "tok_visa_4242");
        assert!(!format!("{token:?}").contains("4242"));
        for bad in ["", "tok with space", "tök", &"t".repeat(MAX_TOKEN_LEN + 1)] {
            assert_eq!(CardToken::parse(bad), Err(InvalidCardToken), "{bad:?}");
        }
        assert!(CardToken::parse(&"t".repeat(MAX_TOKEN_LEN)).is_ok());
    }
}

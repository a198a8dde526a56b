//! What a token says, and the identity a verified token stands for.

use crate::error::AuthError;
use serde::{Deserialize, Serialize};

/// What a caller may do, as a token grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Holds, orders and reads their own holds and orders; the subject is the customer id.
    Customer,
    /// Creates and publishes events and reads every hold and order.
    Operator,
    /// Checks tickets in at the gate and reads a ticket by its code; nothing else.
    Scanner,
    /// A role this version does not know: it grants nothing (a newer issuer may add roles).
    #[serde(other)]
    Unknown,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Operator => "operator",
            Role::Scanner => "scanner",
            Role::Unknown => "unknown",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "customer" => Ok(Role::Customer),
            "operator" => Ok(Role::Operator),
            "scanner" => Ok(Role::Scanner),
            other => Err(format!(
                "unknown role {other:?}: use customer, operator or scanner"
            )),
        }
    }
}

/// The audience of TicketView's bearer tokens unless `TV_JWT_AUDIENCE` names another.
pub const DEFAULT_AUDIENCE: &str = "ticketview";

/// The longest a token may live (`exp - iat`), in seconds: a stolen token is worth a day at most.
/// Tokens of up to an hour are what clients are promised; a longer one is refused as invalid.
pub const MAX_TOKEN_LIFETIME_SECONDS: u64 = 86_400;

/// The claims of a TicketView token. `exp` and `iat` are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub roles: Vec<Role>,
    pub exp: u64,
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Who the token is for: required, [`DEFAULT_AUDIENCE`] unless configured otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// The caller, as a verified token says: its subject and roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    subject: String,
    roles: Vec<Role>,
}

impl Identity {
    pub(crate) fn from_claims(claims: Claims) -> Self {
        Self {
            subject: claims.sub,
            roles: claims.roles,
        }
    }

    /// The token's `sub`: a customer id for a customer.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn has(&self, role: Role) -> bool {
        role != Role::Unknown && self.roles.contains(&role)
    }

    /// This identity when it has `role`, else `403 forbidden`.
    pub fn require(&self, role: Role) -> Result<&Self, AuthError> {
        match self.has(role) {
            true => Ok(self),
            false => Err(AuthError::Forbidden { needed: role }),
        }
    }

    /// Whether it may read what belongs to customer `owner`: the customer themself or an operator.
    pub fn may_read_customer(&self, owner: &str) -> bool {
        self.has(Role::Operator) || (self.has(Role::Customer) && self.subject == owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(sub: &str, roles: &[Role]) -> Identity {
        Identity::from_claims(Claims {
            sub: sub.into(),
            roles: roles.to_vec(),
            exp: 0,
            iat: 0,
            iss: None,
            aud: None,
        })
    }

    #[test]
    fn an_unknown_role_is_read_and_grants_nothing() {
        let claims: Claims =
            serde_json::from_str(r#"{"sub":"x","roles":["auditor","customer"],"exp":1,"iat":0}"#)
                .unwrap();
        assert_eq!(claims.roles, vec![Role::Unknown, Role::Customer]);
        let identity = Identity::from_claims(claims);
        assert!(identity.has(Role::Customer));
        assert!(!identity.has(Role::Unknown));
        assert!(identity.require(Role::Operator).is_err());
    }

    #[test]
    fn a_customer_reads_only_their_own_an_operator_everyone_s() {
        assert!(identity("alice", &[Role::Customer]).may_read_customer("alice"));
        assert!(!identity("alice", &[Role::Customer]).may_read_customer("bob"));
        assert!(identity("ops", &[Role::Operator]).may_read_customer("bob"));
        assert!(!identity("alice", &[]).may_read_customer("alice"));
    }
}

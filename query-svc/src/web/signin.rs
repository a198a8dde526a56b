//! The demo sign-in, `POST /signin/demo {"name"}`: a 15-minute customer token for a name, so that
//! a person trying the pages can buy without an identity provider. Only with `TV_DEMO_SIGNIN=1`
//! (off: `404 demo_signin_disabled`); the role is always `customer` whatever the body asks, the
//! subject is `demo-<the name as a slug>`, and each client address may sign in a few times a
//! second (`TV_DEMO_SIGNINS_PER_ADDRESS`). A real deployment leaves it off: its identity
//! provider mints the tokens, signed with a key whose public half the services hold.

use crate::error::ApiError;
use auth::{Issuer, Role};
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use time::OffsetDateTime;
use tv_kit::rate::{client_key, rate_limited, KeyedLimit, DEFAULT_MAX_KEYS};

/// How long a demo token lives.
pub const DEMO_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// The demo sign-in when it is on: the issuer and the per-address limit.
pub struct DemoSignin {
    issuer: Issuer,
    limit: KeyedLimit<IpAddr>,
}

impl DemoSignin {
    pub fn new(issuer: Issuer, per_address: u32) -> Self {
        Self {
            issuer,
            limit: KeyedLimit::new(per_address, DEFAULT_MAX_KEYS),
        }
    }

    /// Mints the token of a sign-in by `peer` with this request body.
    pub fn sign_in(&self, peer: Option<SocketAddr>, body: &[u8]) -> Result<Response, ApiError> {
        if let Some(peer) = peer {
            if let Err(wait) = self.limit.check(&client_key(peer.ip())) {
                return Ok(rate_limited("address", wait));
            }
        }
        let name = DemoName::from_body(body)?;
        let subject = name.subject();
        let token = self
            .issuer
            .mint(&subject, &[Role::Customer], DEMO_TOKEN_TTL);
        let expires_at = OffsetDateTime::now_utc() + DEMO_TOKEN_TTL;
        metrics::counter!("tv_demo_signins_total").increment(1);
        Ok(Json(json!({
            "token": token,
            "subject": subject,
            "expires_at": expires_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }))
        .into_response())
    }
}

/// `POST /signin/demo`.
pub async fn demo(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<crate::AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    match &state.web.signin {
        Some(signin) => signin.sign_in(peer.map(|Extension(ConnectInfo(p))| p), &body),
        None => Err(ApiError::not_found(
            "demo_signin_disabled",
            "the demo sign-in is off here: sign in with a token from the identity provider",
        )),
    }
}

/// A name typed on the sign-in page: 1 to 40 characters once trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoName(String);

impl DemoName {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let name = text.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS {
            return Err(invalid_name(format!(
                "a name is 1 to {MAX_NAME_CHARS} characters (this one has {chars})"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid_name("a name has no control characters".into()));
        }
        Ok(Self(name.to_owned()))
    }

    /// The `name` of a JSON body; any other field (a role asked for) is ignored.
    fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request("invalid_body", format!("the body is not JSON: {e}"))
        })?;
        match value.get("name") {
            Some(Value::String(name)) => Self::parse(name),
            _ => Err(invalid_name(
                "the body is {\"name\": \"…\"}, a name of 1 to 40 characters".into(),
            )),
        }
    }

    /// The customer id of this name: `demo-` and the name's letters and digits in lower case,
    /// other characters as `-`; a name with characters beyond ASCII (or none of its letters
    /// left) also gets 8 hex digits of the whole name, so that two such names stay apart.
    pub fn subject(&self) -> String {
        let mut slug = String::new();
        for c in self.0.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_matches('-');
        if self.0.is_ascii() && !slug.is_empty() {
            return format!("demo-{slug}");
        }
        let digest = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, self.0.as_bytes());
        let hash = &digest.simple().to_string()[..8];
        if slug.is_empty() {
            format!("demo-{hash}")
        } else {
            format!("demo-{slug}-{hash}")
        }
    }
}

fn invalid_name(message: String) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_name",
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::CustomerId;

    fn subject(name: &str) -> String {
        DemoName::parse(name).unwrap().subject()
    }

    #[test]
    fn the_subject_is_the_name_as_a_slug() {
        assert_eq!(subject("  Ann Lee "), "demo-ann-lee");
        assert_eq!(subject("O'Brien, Pat"), "demo-o-brien-pat");
        assert_eq!(
            subject("Ann Lee"),
            subject("ann-lee"),
            "a name, not a person"
        );
    }

    #[test]
    fn names_beyond_ascii_keep_apart_by_a_hash() {
        assert!(subject("Zoë").starts_with("demo-zo-"));
        assert_ne!(subject("Zoë"), subject("Zoè"));
        assert_ne!(subject("李雷"), subject("韩梅梅"));
        assert!(subject("李雷").starts_with("demo-"));
    }

    #[test]
    fn every_subject_is_a_customer_id() {
        for name in ["a", "李雷", &"x".repeat(40), &"é".repeat(40), "--!!--"] {
            let id = subject(name);
            assert!(CustomerId::parse(&id).is_ok(), "{name:?} → {id:?}");
        }
    }

    #[test]
    fn an_empty_a_long_or_a_control_name_is_refused() {
        for bad in ["", "   ", &"x".repeat(41), "ann\u{7}"] {
            assert!(DemoName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            DemoName::parse(&"é".repeat(40)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn a_body_without_a_name_string_is_refused_and_extra_fields_are_ignored() {
        assert!(DemoName::from_body(b"{\"name\": 7}").is_err());
        assert!(DemoName::from_body(b"not json").is_err());
        let name = DemoName::from_body(br#"{"name": "Ann", "roles": ["operator"]}"#).unwrap();
        assert_eq!(name.subject(), "demo-ann");
    }

    #[tokio::test]
    async fn a_minted_token_is_a_customer_s_whatever_the_body_asks() {
        let signin = DemoSignin::new(auth::testing::issuer(), 5);
        let response = signin
            .sign_in(
                None,
                br#"{"name": "Ann", "roles": ["operator"], "role": "operator"}"#,
            )
            .unwrap();
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["subject"], "demo-ann");
        let verifier = auth::testing::config().verifier().unwrap();
        let identity = verifier.verify(body["token"].as_str().unwrap()).unwrap();
        assert_eq!(identity.subject(), "demo-ann");
        assert!(identity.has(Role::Customer));
        assert!(!identity.has(Role::Operator) && !identity.has(Role::Scanner));
    }

    #[test]
    fn an_address_over_its_limit_is_told_to_wait() {
        let signin = DemoSignin::new(auth::testing::issuer(), 1);
        let peer: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let statuses: Vec<u16> = (0..3)
            .map(|_| {
                signin
                    .sign_in(Some(peer), br#"{"name": "Ann"}"#)
                    .unwrap()
                    .status()
                    .as_u16()
            })
            .collect();
        assert_eq!(statuses, [200, 200, 429], "a burst of two, then a wait");
    }
}

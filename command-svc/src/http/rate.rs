//! Per-client rate limits on commands: every command route passes here before its handler, so a
//! refused command (`429 rate_limited` with `Retry-After`) has decided and appended nothing.
//!
//! Two limits, both per second with bursts of twice that (`TV_COMMANDS_PER_ADDRESS`,
//! `TV_COMMANDS_PER_CUSTOMER`): one per client address (IPv6 by /64), checked first, so a flood
//! from one address is refused before any token is verified; one per authenticated subject (a
//! customer, or an operator or scanner), so one account spread over many addresses is still
//! held to its own rate. The subject counts only once its token verifies: a forged token naming
//! someone else cannot spend their allowance. The verified identity is kept on the request, and
//! the handler's caller extractor takes it from there instead of verifying the token again.
//!
//! Behind a proxy that hides client addresses, every client shares the proxy's address: raise
//! the address limit there.

use auth::Identity;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tv_kit::rate::{client_key, rate_limited, KeyedLimit, DEFAULT_MAX_KEYS};

/// The command limits of one instance.
pub struct CommandLimits {
    addresses: KeyedLimit<IpAddr>,
    subjects: KeyedLimit<String>,
}

impl CommandLimits {
    pub fn new(per_address: u32, per_subject: u32) -> Self {
        Self {
            addresses: KeyedLimit::new(per_address, DEFAULT_MAX_KEYS),
            subjects: KeyedLimit::new(per_subject, DEFAULT_MAX_KEYS),
        }
    }
}

/// The middleware of the command routes (`route_layer`, inside the token verifier's extension).
pub async fn limit(
    State(limits): State<Arc<CommandLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(address) = peer {
        if let Err(wait) = limits.addresses.check(&client_key(address)) {
            return rate_limited("address", wait);
        }
    }
    let (mut parts, body) = request.into_parts();
    if let Ok(identity) = Identity::from_request_parts(&mut parts, &()).await {
        if let Err(wait) = limits.subjects.check(&identity.subject().to_owned()) {
            return rate_limited("account", wait);
        }
        parts.extensions.insert(Verified(identity));
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The identity of a request whose token this middleware verified.
#[derive(Clone)]
pub struct Verified(pub Identity);

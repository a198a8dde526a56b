//! One mapping from every failure to an HTTP status and a JSON body with a stable code.
//!
//! `{"error": {"code": "<stable_snake_case>", "message": "<for people>"}}`. Internal details are
//! logged once here and never returned.

use crate::catalog::CatalogFailure;
use crate::inventory::CommandError;
use crate::orders::OrderFailure;
use auth::AuthError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::catalog::CatalogError;
use domain::ids::InvalidId;
use domain::inventory::InventoryError;
use domain::ordering::OrderError;
use domain::payments::PaymentError;
use std::borrow::Cow;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// The `WWW-Authenticate` challenge of a 401.
    pub challenge: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            challenge: None,
        }
    }

    fn unavailable(detail: &str) -> Self {
        tracing::warn!(%detail, "answering 503");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the event store is unavailable; retry with the same Idempotency-Key",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message }
        });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS
            || self.status == StatusCode::SERVICE_UNAVAILABLE
        {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// 401 `unauthenticated` (with a `Bearer` challenge) or 403 `forbidden`. The token is never
/// part of the answer or of a log line.
impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        Self {
            status,
            code: Cow::Borrowed(e.code()),
            message: e.to_string(),
            challenge: e.challenge(),
        }
    }
}

impl From<InvalidId> for ApiError {
    fn from(e: InvalidId) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: Cow::Owned(format!("invalid_{}", e.what)),
            message: e.to_string(),
            challenge: None,
        }
    }
}

/// Someone else's hold or order is answered exactly as one that does not exist: a `403` would
/// tell that the id is real.
impl From<InventoryError> for ApiError {
    fn from(e: InventoryError) -> Self {
        use InventoryError::*;
        let e = match e {
            NotOwner => UnknownHold,
            other => other,
        };
        let (status, code) = match &e {
            NotOpen | SaleNotOpen => (StatusCode::CONFLICT, "sale_not_open"),
            SaleClosed | EventCancelled => (StatusCode::CONFLICT, "sale_closed"),
            NotAdmitted => (StatusCode::FORBIDDEN, "not_admitted"),
            AdmissionExpired => (StatusCode::FORBIDDEN, "admission_expired"),
            AlreadyOpen => (StatusCode::CONFLICT, "invalid_state"),
            UnknownSection => (StatusCode::NOT_FOUND, "unknown_section"),
            UnknownSeat(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_seat"),
            DuplicateSeat(_) => (StatusCode::UNPROCESSABLE_ENTITY, "duplicate_seat"),
            InvalidQuantity { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_quantity"),
            SeatsInGaSection => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "seats_in_general_admission",
            ),
            SeatUnavailable(_) => (StatusCode::CONFLICT, "seat_unavailable"),
            SoldOut { .. } => (StatusCode::CONFLICT, "sold_out"),
            NoAdjacentSeats { .. } => (StatusCode::CONFLICT, "no_adjacent_seats"),
            LimitExceeded { .. } => (StatusCode::CONFLICT, "limit_exceeded"),
            UnknownHold => (StatusCode::NOT_FOUND, "unknown_hold"),
            InvalidHoldState { .. } => (StatusCode::CONFLICT, "invalid_state"),
            HoldExpired => (StatusCode::CONFLICT, "hold_expired"),
            IdempotencyKeyReused => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            UnknownOrder => (StatusCode::NOT_FOUND, "unknown_order"),
            NotCheckedOut => (StatusCode::CONFLICT, "invalid_state"),
            NotSoldOut { .. } => (StatusCode::CONFLICT, "not_sold_out"),
            UnknownWaitlistEntry => (StatusCode::NOT_FOUND, "unknown_waitlist_entry"),
            UnknownPresale => (StatusCode::NOT_FOUND, "unknown_presale"),
            AccessCodeInvalid => (StatusCode::FORBIDDEN, "access_code_invalid"),
            AccessCodeUsedUp { .. } => (StatusCode::CONFLICT, "access_code_used_up"),
            UnknownBlock => (StatusCode::NOT_FOUND, "unknown_block"),
            EmptyBlock => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_quantity"),
            UnknownTicketType => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_ticket_type"),
            _ => (StatusCode::CONFLICT, "rejected"),
        };
        Self::new(status, code, e.to_string())
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Rejected(rule) => rule.into(),
            CommandError::Overloaded => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "overloaded",
                "too many requests for this event right now; retry shortly",
            ),
            CommandError::Unavailable(detail) => Self::unavailable(&detail),
        }
    }
}

impl From<CatalogFailure> for ApiError {
    fn from(e: CatalogFailure) -> Self {
        match e {
            CatalogFailure::Rejected(CatalogError::UnknownEvent) => Self::new(
                StatusCode::NOT_FOUND,
                "unknown_event",
                "no event with this id exists",
            ),
            CatalogFailure::Rejected(CatalogError::AlreadyExists) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this idempotency key was already used to create an event with other details",
            ),
            CatalogFailure::Rejected(rule @ CatalogError::InvalidState { .. }) => {
                Self::new(StatusCode::CONFLICT, "invalid_state", rule.to_string())
            }
            CatalogFailure::Unavailable(detail) => Self::unavailable(&detail),
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        use OrderError::*;
        let e = match e {
            NotOwner => UnknownOrder,
            other => other,
        };
        let (status, code) = match &e {
            UnknownOrder => (StatusCode::NOT_FOUND, "unknown_order"),
            IdempotencyKeyReused => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            InvalidOrder { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_order"),
            HoldExpired => (StatusCode::CONFLICT, "hold_expired"),
            InvalidState { .. } | NotDue { .. } => (StatusCode::CONFLICT, "invalid_state"),
            AlreadyCaptured { .. } => (StatusCode::CONFLICT, "already_paid"),
            AmountMismatch { .. } => (StatusCode::CONFLICT, "amount_mismatch"),
            TicketsMismatch => (StatusCode::CONFLICT, "tickets_mismatch"),
            RefundExceedsCapture { .. } => (StatusCode::CONFLICT, "refund_exceeds_capture"),
            InvalidAmount => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
            _ => (StatusCode::CONFLICT, "rejected"),
        };
        Self::new(status, code, e.to_string())
    }
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> Self {
        use PaymentError::*;
        let (status, code) = match &e {
            AlreadyCaptured { .. } => (StatusCode::CONFLICT, "already_paid"),
            AlreadyDeclined | NotCaptured => (StatusCode::CONFLICT, "invalid_state"),
            RefundExceedsCapture { .. } => (StatusCode::CONFLICT, "refund_exceeds_capture"),
            IdempotencyKeyReused => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            InvalidAmount => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
            _ => (StatusCode::CONFLICT, "rejected"),
        };
        Self::new(status, code, e.to_string())
    }
}

impl From<OrderFailure> for ApiError {
    fn from(e: OrderFailure) -> Self {
        match e {
            OrderFailure::Rejected(rule) => rule.into(),
            OrderFailure::Inventory(rule) => rule.into(),
            OrderFailure::Payment(rule) => rule.into(),
            OrderFailure::Overloaded => CommandError::Overloaded.into(),
            OrderFailure::Unavailable(detail) => Self::unavailable(&detail),
            OrderFailure::PaymentRefused { reason } => Self::new(
                StatusCode::PAYMENT_REQUIRED,
                "payment_refused",
                format!(
                    "the payment gateway refused this means of payment ({reason}); the order \
                     failed and its seats are back on sale: hold them again and pay with another \
                     card"
                ),
            ),
            OrderFailure::GatewayUnavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payment_gateway_unavailable",
                "the payment gateway did not answer; nothing was charged: retry with the same \
                 Idempotency-Key",
            ),
            OrderFailure::GatewayRefused => Self::new(
                StatusCode::BAD_GATEWAY,
                "payment_gateway_error",
                "the payment gateway refused the request; nothing was charged: retry later",
            ),
        }
    }
}

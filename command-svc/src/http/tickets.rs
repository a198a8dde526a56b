//! `POST /tickets/{code}/check-in`: a scanner (or an operator) admits a ticket at the gate.

use super::caller::Scanner;
use super::error::ApiError;
use super::extract::{PathParams, TraceParent};
use super::AppState;
use crate::tickets::{CheckInFailure, CheckedIn};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::ids::EventId;
use domain::ordering::OrderError;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Serialize)]
pub struct CheckInAnswer {
    ticket_id: Uuid,
    event_id: EventId,
    seat: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    checked_in_at: time::OffsetDateTime,
}

impl From<CheckedIn> for CheckInAnswer {
    fn from(done: CheckedIn) -> Self {
        Self {
            ticket_id: done.ticket_id,
            event_id: done.event_id,
            seat: done.seat.map(|s| s.to_string()),
            checked_in_at: done.checked_in_at,
        }
    }
}

/// `200` the first time; `409 already_checked_in` (with the first `checked_in_at`) afterwards,
/// also for the loser of two scanners racing; `409 ticket_void` for a ticket of an order
/// cancelled, refunded or expired; `404 unknown_ticket` for any code not issued.
#[tracing::instrument(skip(caller, state, trace, code))]
pub async fn check_in(
    caller: Scanner,
    State(state): State<AppState>,
    PathParams(code): PathParams<String>,
    TraceParent(trace): TraceParent,
) -> Result<Json<CheckInAnswer>, Response> {
    match state.tickets.check_in(&code, &caller.0, trace).await {
        Ok(done) => Ok(Json(done.into())),
        Err(failure) => Err(refusal(failure)),
    }
}

fn refusal(failure: CheckInFailure) -> Response {
    let rule = match failure {
        CheckInFailure::Rejected(rule) => rule,
        CheckInFailure::Unavailable(detail) => {
            tracing::warn!(%detail, "answering 503");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the event store is unavailable; scan the ticket again",
            )
            .into_response();
        }
    };
    let message = rule.to_string();
    match rule {
        OrderError::AlreadyCheckedIn { checked_in_at } => {
            let at = checked_in_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let body = serde_json::json!({
                "error": {"code": "already_checked_in", "message": message, "checked_in_at": at}
            });
            (StatusCode::CONFLICT, Json(body)).into_response()
        }
        OrderError::TicketVoid { .. } => {
            ApiError::new(StatusCode::CONFLICT, "ticket_void", message).into_response()
        }
        _ => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_ticket",
            OrderError::UnknownTicket.to_string(),
        )
        .into_response(),
    }
}

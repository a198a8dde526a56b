//! The query string of `GET /events` parsed at the edge: which events (`status`), how many
//! (`limit`, 1 to 1000, default 100) and from where (`cursor`, opaque), and the `Link` to the
//! next page.

use crate::error::ApiError;
use crate::extract::ListParams;
use crate::read::{Cursor, Listing, DEFAULT_LIMIT, MAX_LIMIT, STATUSES};
use axum::http::HeaderValue;

pub(crate) struct ListRequest {
    pub listing: Listing,
    pub cursor: Option<Cursor>,
    pub limit: u32,
}

impl ListRequest {
    pub fn parse(params: &ListParams) -> Result<Self, ApiError> {
        let limit = match params.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_limit",
                        format!("limit is a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let cursor = match params.cursor.as_deref() {
            None => None,
            Some(text) => Some(Cursor::parse(text).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_cursor",
                    "cursor is the one a previous page's Link header gave",
                )
            })?),
        };
        let listing = match params.status.as_deref() {
            None => Listing::Published,
            Some(text) => {
                Listing::Status(STATUSES.iter().find(|s| **s == text).copied().ok_or_else(
                    || {
                        ApiError::bad_request(
                            "invalid_status",
                            "status is one of draft, on_sale, closed, cancelled",
                        )
                    },
                )?)
            }
        };
        Ok(Self {
            listing,
            cursor,
            limit,
        })
    }

    /// Drafts are an operator's.
    pub fn needs_operator(&self) -> bool {
        self.listing == Listing::Status("draft")
    }

    /// `</events?…&cursor=…>; rel="next"`: the same listing, from `next`.
    pub fn next_link(&self, next: Cursor) -> HeaderValue {
        let status = match self.listing {
            Listing::Published => String::new(),
            Listing::Status(status) => format!("&status={status}"),
        };
        let link = format!(
            "</events?limit={}{status}&cursor={next}>; rel=\"next\"",
            self.limit
        );
        HeaderValue::from_str(&link).expect("ASCII from known parts")
    }
}

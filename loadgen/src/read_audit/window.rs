//! When query-svc computed an answer, as far as loadgen can tell: after the request was sent and
//! before its answer arrived. Query-svc applies lazy expiry at that instant (a hold past its
//! `expires_at` no longer counts as held, even before its `HoldExpired` is projected), so the
//! audit knows exactly what to expect from every hold whose `expires_at` is outside the window,
//! and asks again, once it has passed, about an answer that depends on one inside it.
//!
//! This assumes loadgen and query-svc read the same clock (one host, or hosts kept in step by
//! NTP): [`CLOCK_MARGIN`] widens the window by more than such hosts drift apart.

use std::time::Duration;
use time::OffsetDateTime;

/// How far the clocks of loadgen and query-svc may differ.
pub const CLOCK_MARGIN: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub sent: OffsetDateTime,
    pub received: OffsetDateTime,
}

/// The answer depends on a hold that expired while it was being computed: ask again after `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AskAgain {
    pub at: OffsetDateTime,
}

impl AskAgain {
    /// The later of two.
    pub fn max(self, other: Option<AskAgain>) -> AskAgain {
        match other {
            Some(o) if o.at > self.at => o,
            _ => self,
        }
    }
}

impl Window {
    /// Whether a hold expiring at `expires_at` had lapsed when the answer was computed (query-svc
    /// treats `expires_at <= now` as lapsed), or when to ask again if that cannot be told.
    pub fn lapsed(&self, expires_at: OffsetDateTime) -> Result<bool, AskAgain> {
        if expires_at <= self.sent - CLOCK_MARGIN {
            Ok(true)
        } else if expires_at > self.received + CLOCK_MARGIN {
            Ok(false)
        } else {
            Err(AskAgain {
                at: expires_at + CLOCK_MARGIN,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_hold_expiring_inside_the_window_asks_again_after_it() {
        let window = Window {
            sent: datetime!(2027-01-01 12:00:00 UTC),
            received: datetime!(2027-01-01 12:00:01 UTC),
        };
        assert_eq!(window.lapsed(datetime!(2027-01-01 11:59:59 UTC)), Ok(true));
        assert_eq!(window.lapsed(datetime!(2027-01-01 12:00:02 UTC)), Ok(false));
        assert_eq!(
            window.lapsed(datetime!(2027-01-01 12:00:00.5 UTC)),
            Err(AskAgain {
                at: datetime!(2027-01-01 12:00:00.75 UTC)
            })
        );
    }
}

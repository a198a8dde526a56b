//! The status words of the read models: one meaning for each, the domain's.
//!
//! A hold's stored word is the domain's [`domain::inventory::HoldStatus::name`]: `active`,
//! `ordered` (checked out into an order being paid: still held, still expiring), `sold`,
//! `returned` (sold, then its seats went back on sale with its order's refund), `released`,
//! `expired`. A seat is `available`, `held`, `sold` or `blocked` (an operator took it off sale). Orders and events store the
//! domain's own words ([`domain::ordering::OrderStatus`], [`domain::catalog::EventStatus`]),
//! parsed back here.
//!
//! What a reader shows differs from what is stored in one way only, lazy expiry: a pending hold
//! past its `expires_at` is expired (and its seats available) whether or not its `HoldExpired`
//! has been projected. [`HoldStatus::at`] and [`SeatStatus::at`] apply it; the API then words a
//! sold hold as `ordered` too ([`HoldStatus::api_word`]), as its contract has always done.

use domain::catalog::EventStatus;
use domain::ordering::OrderStatus;
use time::OffsetDateTime;

/// A hold's status as stored in `holds.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldStatus {
    /// Held, not yet checked out.
    Active,
    /// Checked out into an order being paid: its seats are still held, and it still expires at
    /// `expires_at` unless sold.
    Ordered,
    /// Sold to its order.
    Sold,
    /// Sold, then its seats were returned (its order refunded).
    Returned,
    Released,
    Expired,
}

impl HoldStatus {
    pub const ALL: [HoldStatus; 6] = [
        Self::Active,
        Self::Ordered,
        Self::Sold,
        Self::Returned,
        Self::Released,
        Self::Expired,
    ];

    /// The stored word, the domain's name for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Ordered => "ordered",
            Self::Sold => "sold",
            Self::Returned => "returned",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }

    /// The status of a stored word (`None` for a word this version does not know).
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// Active or ordered: the hold's seats still count in `held` until its `expires_at`.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Active | Self::Ordered)
    }

    /// The status at `now` of a hold stored with this status: a pending hold past its
    /// `expires_at` has expired, projected or not.
    pub fn at(self, expires_at: OffsetDateTime, now: OffsetDateTime) -> Self {
        if self.is_pending() && expires_at <= now {
            Self::Expired
        } else {
            self
        }
    }

    /// The word `GET /holds/{id}` answers: `active`, `released`, `expired` or `ordered` (checked
    /// out, sold or returned: the hold went to an order, whose own status tells whether it was
    /// paid or refunded).
    pub fn api_word(self) -> &'static str {
        match self {
            Self::Sold | Self::Returned => Self::Ordered.as_str(),
            other => other.as_str(),
        }
    }

    /// The stored status of a hold in the domain's status: the same word (`None` for a status
    /// newer than this contract).
    pub fn of_domain(status: &domain::inventory::HoldStatus) -> Option<Self> {
        Self::parse(status.name())
    }

    /// The words `GET /holds/{id}` may answer, for the API's schema.
    pub const API_WORDS: [&'static str; 4] = ["active", "released", "expired", "ordered"];
}

/// The stored status of every pending hold, for SQL (`status IN (…)`).
pub const PENDING_HOLD_WORDS: &str = "'active', 'ordered'";

/// A seat's status as stored in `seats.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeatStatus {
    Available,
    Held,
    Sold,
    /// Taken off sale by an operator's block until it is released: not available, held by nobody.
    Blocked,
}

impl SeatStatus {
    pub const ALL: [SeatStatus; 4] = [Self::Available, Self::Held, Self::Sold, Self::Blocked];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Held => "held",
            Self::Sold => "sold",
            Self::Blocked => "blocked",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// The stored word of the domain's status of a seat.
    pub fn of_domain(status: &domain::inventory::SeatStatus) -> Self {
        use domain::inventory::SeatStatus as Domain;
        match status {
            Domain::Available => Self::Available,
            Domain::Held(_) => Self::Held,
            Domain::Sold(_) => Self::Sold,
            Domain::Blocked(_) => Self::Blocked,
        }
    }

    /// The status at `now` of a seat stored with this status and its hold's `expires_at`: a held
    /// seat whose hold has run out is available again.
    pub fn at(self, hold_expires_at: Option<OffsetDateTime>, now: OffsetDateTime) -> Self {
        match self {
            Self::Held if hold_expires_at.is_some_and(|t| t <= now) => Self::Available,
            other => other,
        }
    }
}

/// A ticket's status as stored and as `GET /tickets/{code}` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    /// Issued, its order confirmed, not checked in yet.
    Valid,
    /// Checked in at the gate (once).
    CheckedIn,
    /// Its order was cancelled, refunded or expired: refused at the gate.
    Void,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 3] = [Self::Valid, Self::CheckedIn, Self::Void];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::CheckedIn => "checked_in",
            Self::Void => "void",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// An order's stored status word, parsed back to the domain's status.
pub fn order_status(word: &str) -> Option<OrderStatus> {
    [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Confirmed,
        OrderStatus::PaymentFailed,
        OrderStatus::Expired,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ]
    .into_iter()
    .find(|s| s.as_str() == word)
}

/// An event's stored status word, parsed back to the domain's status.
pub fn event_status(word: &str) -> Option<EventStatus> {
    [
        EventStatus::Draft,
        EventStatus::OnSale,
        EventStatus::Closed,
        EventStatus::Cancelled,
    ]
    .into_iter()
    .find(|s| s.as_str() == word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::OrderId;
    use domain::inventory::HoldStatus as Domain;
    use time::macros::datetime;

    #[test]
    fn every_stored_hold_word_is_the_domain_s_name_for_the_same_status() {
        let order_id = OrderId::new_random();
        let pairs = [
            (HoldStatus::Active, Domain::Active),
            (HoldStatus::Ordered, Domain::Ordered { order_id }),
            (HoldStatus::Sold, Domain::Sold { order_id }),
            (HoldStatus::Returned, Domain::Returned { order_id }),
            (HoldStatus::Released, Domain::Released),
            (HoldStatus::Expired, Domain::Expired),
        ];
        for (stored, domain) in pairs {
            assert_eq!(stored.as_str(), domain.name());
            assert_eq!(HoldStatus::of_domain(&domain), Some(stored));
            assert_eq!(stored.is_pending(), domain.is_pending(), "{stored:?}");
            assert_eq!(HoldStatus::parse(stored.as_str()), Some(stored));
        }
        assert_eq!(HoldStatus::parse("checked_out"), None);
    }

    #[test]
    fn a_pending_hold_past_its_expiry_is_expired_and_only_a_pending_one() {
        let at = datetime!(2030-01-01 12:00 UTC);
        let before = datetime!(2030-01-01 11:59 UTC);
        assert_eq!(HoldStatus::Active.at(at, at), HoldStatus::Expired);
        assert_eq!(HoldStatus::Ordered.at(at, at), HoldStatus::Expired);
        assert_eq!(HoldStatus::Active.at(at, before), HoldStatus::Active);
        assert_eq!(HoldStatus::Sold.at(at, at), HoldStatus::Sold);
        assert_eq!(HoldStatus::Released.at(at, at), HoldStatus::Released);
    }

    #[test]
    fn the_api_words_a_checked_out_or_sold_hold_as_ordered() {
        assert_eq!(HoldStatus::Ordered.api_word(), "ordered");
        assert_eq!(HoldStatus::Sold.api_word(), "ordered");
        assert_eq!(HoldStatus::Returned.api_word(), "ordered");
        for s in HoldStatus::ALL {
            assert!(HoldStatus::API_WORDS.contains(&s.api_word()), "{s:?}");
        }
    }

    #[test]
    fn a_held_seat_whose_hold_ran_out_is_available() {
        let at = datetime!(2030-01-01 12:00 UTC);
        assert_eq!(SeatStatus::Held.at(Some(at), at), SeatStatus::Available);
        assert_eq!(SeatStatus::Held.at(None, at), SeatStatus::Held);
        assert_eq!(SeatStatus::Sold.at(Some(at), at), SeatStatus::Sold);
        for s in SeatStatus::ALL {
            assert_eq!(SeatStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn order_and_event_words_parse_back_to_the_domain_s_statuses() {
        for word in [
            "pending_payment",
            "confirmed",
            "payment_failed",
            "expired",
            "cancelled",
            "refunded",
        ] {
            assert_eq!(order_status(word).map(|s| s.as_str()), Some(word));
        }
        for word in ["draft", "on_sale", "closed", "cancelled"] {
            assert_eq!(event_status(word).map(|s| s.as_str()), Some(word));
        }
        assert_eq!(order_status("sold"), None);
    }
}

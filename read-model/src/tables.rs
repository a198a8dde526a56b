//! The read-model tables, by the name both sides use in SQL. The projector writes them (in the
//! `public` schema, or a rebuild's scratch schema before the swap) and query-svc reads them; the
//! columns are the migrations' (`projector/migrations`), the rows as read are in [`crate::rows`].

/// One row per event: listing and detail (catalog projection).
pub const EVENTS: &str = "events";
/// One row per section of an opened inventory: capacity, held, sold, next expiry, version.
pub const AVAILABILITY: &str = "availability";
/// One row per seated section: its layout and every seat's status and hold expiry
/// ([`crate::seat_map`]).
pub const SEAT_MAPS: &str = "seat_maps";
/// One row per hold, with its status word ([`crate::status::HoldStatus`]).
pub const HOLDS: &str = "holds";
/// One row per waiting-list entry: its status word (`waiting`, `offered`, `left`, `expired`, the
/// domain's `WaitlistStatus::name`), its offered hold and its joining order.
pub const WAITLIST: &str = "waitlist";
/// One row per order, with its status word (the domain's [`domain::ordering::OrderStatus`]).
pub const ORDERS: &str = "orders";
/// One row per ticket, by its unique code: its order, customer, event, section and seat, its status
/// word ([`crate::status::TicketStatus`]) and first check-in time (orders projection).
pub const TICKETS: &str = "tickets";
/// One row per projection and shard: the stream sequence applied up to.
pub const CHECKPOINTS: &str = "projection_checkpoints";

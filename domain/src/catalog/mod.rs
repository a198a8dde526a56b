//! The catalog: what an event is (venue, sections, prices, sale window, limits) and its lifecycle
//! Draft → OnSale → Closed / Cancelled. One aggregate per event, on subject `catalog.<event>`.
//!
//! The catalog does not sell anything: publishing an event opens its inventory (see
//! [`crate::inventory`]), which decides every hold and sale.

mod command;
mod decide;
mod details;
mod event;
mod presales;
mod state;
#[cfg(test)]
mod tests;
mod ticket_types;

pub use command::CatalogCommand;
pub use decide::{decide, evolve};
pub use details::{
    open_inventory, EventDetails, EventDraft, InvalidEvent, Row, RowDraft, Section, SectionDraft,
    SectionLayout,
};
pub use details::{
    DEFAULT_HOLD_TTL_SECONDS, DEFAULT_MAX_TICKETS_PER_CUSTOMER, MAX_GA_CAPACITY,
    MAX_HOLD_TTL_SECONDS, MAX_SEATS_PER_EVENT, MAX_SECTIONS, MAX_TICKETS_PER_CUSTOMER,
    MIN_HOLD_TTL_SECONDS,
};
pub use event::CatalogEvent;
pub use presales::{PresaleDraft, MAX_PRESALES, MAX_TICKETS_PER_CODE};
pub use state::{CatalogState, EventStatus};
pub use ticket_types::{
    effective_types, TicketType, TicketTypeDraft, DEFAULT_TYPE_ID, MAX_TICKET_TYPES,
};

/// Why the catalog refuses a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("no event with this id exists")]
    UnknownEvent,
    #[error("an event with this id already exists with other details")]
    AlreadyExists,
    #[error("the event is {current} and cannot be {action}")]
    InvalidState {
        current: EventStatus,
        action: &'static str,
    },
}

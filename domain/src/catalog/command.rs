//! What an operator can ask of the catalog.

use super::EventDetails;
use crate::ids::EventId;

/// A command lives for one decision and is never stored in bulk, so the size of `Create` (the
/// whole event's details) against the other variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogCommand {
    /// Create the event as a draft. Repeating it with the same details changes nothing.
    Create {
        event_id: EventId,
        details: EventDetails,
    },
    /// Put the event on sale (its inventory opens in the same atomic append).
    Publish,
    /// Stop selling; tickets already sold stay valid.
    CloseSale,
    /// Call the event off.
    Cancel,
}

//! The projector's change notices, as query-svc reads them (core NATS,
//! `<prefix>.notices.<projection>`): the read-model contract's types ([`read_model::notice`]),
//! the projector's very own. Unknown fields are ignored, so that the projector can add some first.

pub use read_model::notice::Notice;

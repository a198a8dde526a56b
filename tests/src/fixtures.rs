//! Events to sell: a seated hall of 100 seats, general-admission floors, and the knobs a test
//! turns (per-customer limit, hold time to live, sale window).

use rand::seq::index::sample;
use rand::Rng;
use serde_json::{json, Value};

/// The seated section of [`EventSpec::seated`]: rows A..J of 10 seats.
pub const SEATED_SECTION: &str = "stalls";
/// The general-admission section of [`EventSpec::ga`].
pub const GA_SECTION: &str = "floor";

const ROWS: [&str; 10] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"];
const SEATS_PER_ROW: u32 = 10;

/// Every seat of [`SEATED_SECTION`], row by row: `A-1` … `J-10`.
pub fn seat_labels() -> Vec<String> {
    ROWS.iter()
        .flat_map(|row| (1..=SEATS_PER_ROW).map(move |n| format!("{row}-{n}")))
        .collect()
}

/// `buyers` buyers (`buyer-0`, …), each after 1 to 4 distinct seats of [`SEATED_SECTION`] picked
/// at random, overlapping freely between buyers.
pub fn random_seat_requests(rng: &mut impl Rng, buyers: usize) -> Vec<(String, Vec<String>)> {
    let labels = seat_labels();
    (0..buyers)
        .map(|i| {
            let count = rng.random_range(1..=4);
            let seats = sample(rng, labels.len(), count)
                .into_iter()
                .map(|j| labels[j].clone())
                .collect();
            (format!("buyer-{i}"), seats)
        })
        .collect()
}

/// The body of `POST /events`, built up section by section.
#[derive(Debug, Clone)]
pub struct EventSpec {
    sections: Vec<Value>,
    hold_ttl_seconds: Option<u32>,
    max_tickets_per_customer: Option<u32>,
    sale_opens_at: Option<String>,
}

impl EventSpec {
    fn empty() -> Self {
        Self {
            sections: Vec::new(),
            hold_ttl_seconds: None,
            max_tickets_per_customer: None,
            sale_opens_at: None,
        }
    }

    /// One seated section, [`SEATED_SECTION`]: rows A..J × 10 seats = 100 seats.
    pub fn seated() -> Self {
        Self::empty().with_seated(SEATED_SECTION)
    }

    /// One general-admission section, [`GA_SECTION`], of `capacity`.
    pub fn ga(capacity: u32) -> Self {
        Self::empty().with_ga(GA_SECTION, capacity)
    }

    /// Adds a seated section of rows A..J × 10 seats.
    pub fn with_seated(mut self, section_id: &str) -> Self {
        let rows: Vec<Value> = ROWS
            .iter()
            .map(|row| json!({ "row": row, "seats": SEATS_PER_ROW }))
            .collect();
        self.sections.push(json!({
            "section_id": section_id,
            "name": format!("Section {section_id}"),
            "price_minor": 5_000,
            "rows": rows,
        }));
        self
    }

    /// Adds a general-admission section.
    pub fn with_ga(mut self, section_id: &str, capacity: u32) -> Self {
        self.sections.push(json!({
            "section_id": section_id,
            "name": format!("Section {section_id}"),
            "price_minor": 3_500,
            "capacity": capacity,
        }));
        self
    }

    /// The per-customer ticket limit (default 8, at most 100).
    pub fn limit(mut self, max_tickets_per_customer: u32) -> Self {
        self.max_tickets_per_customer = Some(max_tickets_per_customer);
        self
    }

    /// The hold time to live (default 600 s, at least 5 s).
    pub fn ttl(mut self, hold_ttl_seconds: u32) -> Self {
        self.hold_ttl_seconds = Some(hold_ttl_seconds);
        self
    }

    /// When the sale opens (RFC 3339).
    pub fn sale_opens_at(mut self, at: &str) -> Self {
        self.sale_opens_at = Some(at.to_owned());
        self
    }

    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "name": "Flash sale",
            "venue": "Test Hall",
            "starts_at": "2030-06-01T20:00:00Z",
            "currency": "EUR",
            "sections": self.sections,
        });
        if let Some(ttl) = self.hold_ttl_seconds {
            body["hold_ttl_seconds"] = json!(ttl);
        }
        if let Some(limit) = self.max_tickets_per_customer {
            body["max_tickets_per_customer"] = json!(limit);
        }
        if let Some(at) = &self.sale_opens_at {
            body["sale_opens_at"] = json!(at);
        }
        body
    }
}

//! Creates and opens the benchmark's event through the public API.

use crate::cli::{Cli, Scenario};
use anyhow::{bail, Context};
use serde_json::{json, Value};

/// The event under load and what the workers need to know of it.
pub struct SaleEvent {
    pub event_id: String,
    /// (section id, rows, seats per row); empty rows for general admission.
    pub sections: Vec<(String, u32, u32)>,
}

pub async fn create(client: &reqwest::Client, cli: &Cli) -> anyhow::Result<SaleEvent> {
    let (sections_json, sections) = match cli.scenario {
        Scenario::HotGa => (
            vec![
                json!({"section_id": "floor", "name": "Floor", "price_minor": 4500, "capacity": cli.ga_capacity}),
            ],
            vec![("floor".to_owned(), 0, 0)],
        ),
        Scenario::SpreadSeats => {
            let rows: Vec<Value> = (0..cli.rows)
                .map(|r| json!({"row": format!("R{r}"), "seats": cli.seats_per_row}))
                .collect();
            let json_sections = (0..cli.sections)
                .map(|s| json!({"section_id": format!("s{s}"), "name": format!("Block {s}"), "price_minor": 9000, "rows": rows}))
                .collect();
            let sections = (0..cli.sections)
                .map(|s| (format!("s{s}"), cli.rows, cli.seats_per_row))
                .collect();
            (json_sections, sections)
        }
    };
    let body = json!({
        "name": "Flash sale benchmark",
        "venue": "Loopback Arena",
        "starts_at": "2027-06-01T20:00:00Z",
        "currency": "EUR",
        "sections": sections_json,
        "hold_ttl_seconds": 600,
        "max_tickets_per_customer": 8,
    });
    let created = client
        .post(format!("{}/events", cli.command_url))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("is command-svc running at {}?", cli.command_url))?;
    if !created.status().is_success() {
        bail!(
            "creating the event: {} {}",
            created.status(),
            created.text().await?
        );
    }
    let created: Value = created.json().await?;
    let event_id = created["event_id"].as_str().context("event_id")?.to_owned();
    let published = client
        .post(format!("{}/events/{event_id}/publish", cli.command_url))
        .send()
        .await?;
    if !published.status().is_success() {
        bail!(
            "publishing the event: {} {}",
            published.status(),
            published.text().await?
        );
    }
    Ok(SaleEvent { event_id, sections })
}

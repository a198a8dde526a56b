//! Creates and opens the benchmark's event through the public API.

use crate::api::Api;
use crate::cli::{Cli, Scenario};
use anyhow::{bail, Context};
use serde_json::{json, Value};

/// The event under load and what the workers need to know of it.
pub struct SaleEvent {
    pub event_id: String,
    /// (section id, rows, seats per row); empty rows for general admission.
    pub sections: Vec<(String, u32, u32)>,
}

pub async fn create(api: &Api, cli: &Cli) -> anyhow::Result<SaleEvent> {
    create_with(api, cli, json!({})).await
}

/// Creates and publishes the event with `extra` fields added to its body (a waiting room and the
/// sale's opening, for the waiting-room sale).
pub async fn create_with(api: &Api, cli: &Cli, extra: Value) -> anyhow::Result<SaleEvent> {
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
    let mut body = json!({
        "name": "Flash sale benchmark",
        "venue": "Loopback Arena",
        "starts_at": "2027-06-01T20:00:00Z",
        "currency": "EUR",
        "sections": sections_json,
        "hold_ttl_seconds": cli.hold_ttl_seconds,
        "max_tickets_per_customer": 8,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let created = api
        .command("/events", None, None, &body)
        .await
        .with_context(|| format!("is command-svc running at {}?", api.command_url()))?;
    if created.status != 201 {
        bail!("creating the event: {} {}", created.status, created.body);
    }
    let event_id = created.body["event_id"]
        .as_str()
        .context("event_id")?
        .to_owned();
    let published = api
        .command(
            &format!("/events/{event_id}/publish"),
            None,
            None,
            &json!({}),
        )
        .await?;
    if published.status != 200 {
        bail!(
            "publishing the event: {} {}",
            published.status,
            published.body
        );
    }
    Ok(SaleEvent { event_id, sections })
}

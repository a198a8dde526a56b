//! `GET /events/{id}/sections/{section}/seats`: a section's seat map (`seats`), dropped from the
//! cache by a notice carrying a newer version of its section's availability row.

use super::cached::{Cached, Versioned};
use super::{event_shard, Projection, ReadError, ReadModels, SeatRow};
use crate::weight;
use domain::ids::SectionId;
use moka::ops::compute::Op;
use read_model::rows::column;
use read_model::status::SeatStatus;
use read_model::tables::{AVAILABILITY, CHECKPOINTS, SEATS};
use read_model::{AvailabilityRow, Version};
use std::sync::{Arc, LazyLock};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct SeatMap {
    /// The section's availability version when the map was read.
    pub version: Version,
    pub seats: Vec<SeatRow>,
}

pub(super) fn cache(bytes: u64) -> Cached<(Uuid, SectionId), Arc<SeatMap>> {
    Cached::new(
        "seat_maps",
        bytes,
        |k: &(Uuid, SectionId), v: &Arc<SeatMap>| weight::seat_map(k.1.as_str(), Some(&**v)),
    )
}

impl ReadModels {
    /// The seat map of a section (`None` when the section is unknown; that is not cached).
    pub async fn seat_map(
        &self,
        event_id: Uuid,
        section_id: &SectionId,
        min_as_of: u64,
    ) -> Result<Option<Arc<SeatMap>>, ReadError> {
        let shard = event_shard(event_id);
        let key = (event_id, section_id.clone());
        self.caches
            .seat_maps
            .get(
                &key,
                self.coherence(Projection::Inventory, shard),
                min_as_of,
                |_| self.load_seat_map(event_id, section_id.as_str(), shard),
            )
            .await
    }

    async fn load_seat_map(
        &self,
        event_id: Uuid,
        section_id: &str,
        shard: u16,
    ) -> Result<Versioned<Option<Arc<SeatMap>>>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT cp.last_sequence, a.version, s.seat, s.status, s.hold_expires_at
                 FROM {CHECKPOINTS} cp
                 LEFT JOIN {AVAILABILITY} a ON a.event_id = $1 AND a.section_id = $2
                 LEFT JOIN {SEATS} s ON s.event_id = a.event_id AND s.section_id = a.section_id
                 WHERE cp.projection = '{inventory}' AND cp.shard = $3
                 ORDER BY s.row_ordinal, s.number",
                inventory = Projection::Inventory.as_str()
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        let rows = client
            .query(&statement, &[&event_id, &section_id, &i32::from(shard)])
            .await?;
        let as_of = rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64);
        let Some(version) = rows.first().and_then(|r| r.get::<_, Option<i64>>(1)) else {
            return Ok(Versioned { as_of, value: None });
        };
        let seats = rows
            .iter()
            .filter_map(|r| r.get::<_, Option<&str>>(2).map(|seat| (seat, r)))
            .map(|(seat, r)| {
                Ok(SeatRow {
                    seat: column(SEATS, "seat", seat, str::parse)?,
                    status: column(SEATS, "status", r.get(3), |w| {
                        SeatStatus::parse(w).ok_or(())
                    })?,
                    hold_expires_at: r.get(4),
                })
            })
            .collect::<Result<_, ReadError>>()?;
        Ok(Versioned {
            as_of,
            value: Some(Arc::new(SeatMap {
                version: Version::from_sql(version),
                seats,
            })),
        })
    }

    /// Drops the cached maps of the sections whose availability row a notice brings newer.
    pub(super) async fn seat_maps_noticed(&self, event_id: Uuid, rows: &[&AvailabilityRow]) {
        for row in rows {
            let version = row.version;
            // A section id that does not parse was never cached.
            let Ok(section_id) = SectionId::parse(&row.section_id) else {
                continue;
            };
            self.caches
                .seat_maps
                .change((event_id, section_id), |current| {
                    if current.value.version >= version {
                        Op::Nop
                    } else {
                        Op::Remove
                    }
                })
                .await;
        }
    }
}

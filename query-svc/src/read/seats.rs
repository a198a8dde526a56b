//! `GET /events/{id}/sections/{section}/seats`: a section's seat map (`seat_maps`), dropped from the
//! cache by a notice carrying a newer version of its section's availability row.

use super::cached::{Cached, Versioned};
use super::{event_shard, Projection, ReadError, ReadModels, SeatRow};
use crate::weight;
use domain::ids::SectionId;
use moka::ops::compute::Op;
use read_model::seat_map::{self, Cells, Layout};
use read_model::tables::{AVAILABILITY, CHECKPOINTS, SEAT_MAPS};
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
                "SELECT cp.last_sequence, a.version, m.row_labels, m.row_seats, m.statuses,
                     m.hold_expiries
                 FROM {CHECKPOINTS} cp
                 LEFT JOIN {AVAILABILITY} a ON a.event_id = $1 AND a.section_id = $2
                 LEFT JOIN {SEAT_MAPS} m ON m.event_id = a.event_id AND m.section_id = a.section_id
                 WHERE cp.projection = '{inventory}' AND cp.shard = $3",
                inventory = Projection::Inventory.as_str()
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        let rows = client
            .query(&statement, &[&event_id, &section_id, &i32::from(shard)])
            .await?;
        let Some(row) = rows.first() else {
            return Ok(Versioned {
                as_of: 0,
                value: None,
            });
        };
        let as_of = row.get::<_, i64>(0) as u64;
        let Some(version) = row.get::<_, Option<i64>>(1) else {
            return Ok(Versioned { as_of, value: None });
        };
        // A section without a map (general admission) has no seats.
        let seats = match row.get::<_, Option<Vec<String>>>(2) {
            Some(row_labels) => {
                let layout = Layout {
                    row_labels,
                    row_seats: row.get(3),
                };
                let cells = Cells::decode(row.get(4), row.get(5))?;
                seat_map::seat_rows(&layout, &cells)?
            }
            None => Vec::new(),
        };
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

//! `GET /holds/{id}`: one hold (`holds`), parsed into the contract's [`HoldRow`] (the domain's
//! ids and the hold's status word), dropped from the cache by a notice naming it.

use super::cached::{Cached, Versioned};
use super::{hold_shard, HoldRow, Projection, ReadError, ReadModels};
use crate::weight;
use read_model::rows::column;
use read_model::status::HoldStatus;
use read_model::tables::{CHECKPOINTS, HOLDS};
use read_model::Version;
use std::sync::{Arc, LazyLock};

pub(super) fn cache(bytes: u64) -> Cached<String, Arc<HoldRow>> {
    Cached::new("holds", bytes, |k: &String, v: &Arc<HoldRow>| {
        weight::hold(k, Some(&**v))
    })
}

impl ReadModels {
    /// A hold by id.
    pub async fn hold(
        &self,
        hold_id: &str,
        min_as_of: u64,
    ) -> Result<Option<Arc<HoldRow>>, ReadError> {
        let shard = hold_shard(hold_id);
        self.caches
            .holds
            .get(
                hold_id,
                self.coherence(Projection::Inventory, shard),
                min_as_of,
                |_| self.load_hold(hold_id, shard),
            )
            .await
    }

    async fn load_hold(
        &self,
        hold_id: &str,
        shard: u16,
    ) -> Result<Versioned<Option<Arc<HoldRow>>>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT cp.last_sequence, h.hold_id, h.event_id, h.section_id, h.customer_id, h.seats,
                        h.quantity, h.expires_at, h.status, h.order_id, h.version
                 FROM {CHECKPOINTS} cp
                 LEFT JOIN {HOLDS} h ON h.hold_id = $1
                 WHERE cp.projection = '{inventory}' AND cp.shard = $2",
                inventory = Projection::Inventory.as_str()
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        let row = client
            .query_one(&statement, &[&hold_id, &i32::from(shard)])
            .await?;
        let as_of = row.get::<_, i64>(0) as u64;
        let Some(stored_id) = row.get::<_, Option<&str>>(1) else {
            return Ok(Versioned { as_of, value: None });
        };
        let seats: Vec<&str> = row.get(5);
        let hold = HoldRow {
            hold_id: column(HOLDS, "hold_id", stored_id, str::parse)?,
            event_id: domain::ids::EventId::from_uuid(row.get(2)),
            section_id: column(HOLDS, "section_id", row.get(3), str::parse)?,
            customer_id: column(HOLDS, "customer_id", row.get(4), str::parse)?,
            seats: seats
                .into_iter()
                .map(|s| column(HOLDS, "seats", s, str::parse))
                .collect::<Result<_, _>>()?,
            quantity: u32::try_from(row.get::<_, i32>(6)).unwrap_or(0),
            expires_at: row.get(7),
            status: column(HOLDS, "status", row.get(8), |w| {
                HoldStatus::parse(w).ok_or(())
            })?,
            order_id: row
                .get::<_, Option<uuid::Uuid>>(9)
                .map(domain::ids::OrderId::from_uuid),
            version: Version::from_sql(row.get(10)),
        };
        Ok(Versioned {
            as_of,
            value: Some(Arc::new(hold)),
        })
    }
}

//! `GET /holds/{id}`: one hold (`holds`), parsed into the contract's [`HoldRow`] (the domain's
//! ids and the hold's status word), dropped from the cache by a notice naming it. And
//! `GET /customers/{id}/holds`: a customer's holds, not cached.

use super::cached::{Cached, Versioned};
use super::{hold_shard, HoldRow, Projection, ReadError, ReadModels};
use crate::weight;
use read_model::rows::column;
use read_model::status::HoldStatus;
use read_model::tables::{CHECKPOINTS, HOLDS};
use read_model::Version;
use std::sync::{Arc, LazyLock};

/// The columns of a hold, in the order [`hold_row`] reads them.
const HOLD_COLUMNS: &str = "h.hold_id, h.event_id, h.section_id, h.customer_id, h.seats, \
     h.quantity, h.expires_at, h.status, h.order_id, h.version";

/// The most holds `GET /customers/{id}/holds` answers.
pub const MAX_CUSTOMER_HOLDS: u32 = 200;

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

    /// A customer's holds, newest first (at most [`MAX_CUSTOMER_HOLDS`]), read straight from
    /// PostgreSQL like their orders: a customer looks at them now and then, not thousands at
    /// once.
    pub async fn customer_holds(&self, customer_id: &str) -> Result<Vec<HoldRow>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {HOLD_COLUMNS} FROM {HOLDS} h WHERE h.customer_id = $1
                 ORDER BY h.created_at DESC, h.hold_id LIMIT {MAX_CUSTOMER_HOLDS}"
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        client
            .query(&statement, &[&customer_id])
            .await?
            .iter()
            .map(|row| hold_row(row, 0))
            .collect()
    }

    async fn load_hold(
        &self,
        hold_id: &str,
        shard: u16,
    ) -> Result<Versioned<Option<Arc<HoldRow>>>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT cp.last_sequence, {HOLD_COLUMNS}
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
        if row.get::<_, Option<&str>>(1).is_none() {
            return Ok(Versioned { as_of, value: None });
        }
        let hold = hold_row(&row, 1)?;
        Ok(Versioned {
            as_of,
            value: Some(Arc::new(hold)),
        })
    }
}

/// The hold in `row`, whose columns from `at` on are `HOLD_COLUMNS`.
fn hold_row(row: &tokio_postgres::Row, at: usize) -> Result<HoldRow, ReadError> {
    let seats: Vec<&str> = row.get(at + 4);
    Ok(HoldRow {
        hold_id: column(HOLDS, "hold_id", row.get::<_, &str>(at), str::parse)?,
        event_id: domain::ids::EventId::from_uuid(row.get(at + 1)),
        section_id: column(HOLDS, "section_id", row.get(at + 2), str::parse)?,
        customer_id: column(HOLDS, "customer_id", row.get(at + 3), str::parse)?,
        seats: seats
            .into_iter()
            .map(|s| column(HOLDS, "seats", s, str::parse))
            .collect::<Result<_, _>>()?,
        quantity: u32::try_from(row.get::<_, i32>(at + 5)).unwrap_or(0),
        expires_at: row.get(at + 6),
        status: column(HOLDS, "status", row.get(at + 7), |w| {
            HoldStatus::parse(w).ok_or(())
        })?,
        order_id: row
            .get::<_, Option<uuid::Uuid>>(at + 8)
            .map(domain::ids::OrderId::from_uuid),
        version: Version::from_sql(row.get(at + 9)),
    })
}

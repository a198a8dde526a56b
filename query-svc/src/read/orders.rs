//! `GET /orders/{id}` and `GET /customers/{id}/orders`, read straight from PostgreSQL (`orders`):
//! an order is read by its customer a few times, not by thousands at once, so it is not cached.

use super::{ReadError, ReadModels};
use domain::ordering::OrderStatus;
use read_model::tables::ORDERS;
use serde::Serialize;
use std::sync::LazyLock;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order_id: Uuid,
    pub customer_id: String,
    pub event_id: Option<Uuid>,
    pub hold_id: Option<String>,
    pub status: OrderStatus,
    pub tickets: serde_json::Value,
    pub total_minor: i64,
    pub currency: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const COLUMNS: &str =
    "order_id, customer_id, event_id, hold_id, status, tickets, total_minor, currency,
                       created_at, updated_at";

impl ReadModels {
    /// An order by id.
    pub async fn order(&self, order_id: Uuid) -> Result<Option<OrderView>, ReadError> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| format!("SELECT {COLUMNS} FROM {ORDERS} WHERE order_id = $1"));
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        client
            .query_opt(&statement, &[&order_id])
            .await?
            .map(|r| order_view(&r))
            .transpose()
    }

    /// A customer's orders, newest first.
    pub async fn customer_orders(&self, customer_id: &str) -> Result<Vec<OrderView>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {COLUMNS} FROM {ORDERS} WHERE customer_id = $1
                 ORDER BY created_at DESC, order_id LIMIT 1000"
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        client
            .query(&statement, &[&customer_id])
            .await?
            .iter()
            .map(order_view)
            .collect()
    }
}

fn order_view(r: &tokio_postgres::Row) -> Result<OrderView, ReadError> {
    Ok(OrderView {
        order_id: r.get(0),
        customer_id: r.get(1),
        event_id: r.get(2),
        hold_id: r.get(3),
        status: read_model::rows::column(ORDERS, "status", r.get(4), |w| {
            read_model::status::order_status(w).ok_or(())
        })?,
        tickets: crate::tickets::with_ids_and_qr(r.get(0), r.get(5)),
        total_minor: r.get(6),
        currency: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
    })
}

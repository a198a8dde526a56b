//! After the sale: orders settle, abandoned holds expire, then the audits run: from the streams
//! (the inventory and every order), then from the read models (query-svc), each adding its
//! findings to the report.

use crate::api::Api;
use crate::cli::Cli;
use crate::report::{Latency, OrdersReport, Report};
use crate::stats::ClientStats;
use crate::{audit, expiry, orders, read_audit};

pub async fn run(
    cli: &Cli,
    api: &Api,
    event_id: &str,
    total: &ClientStats,
    report: &mut Report,
) -> anyhow::Result<()> {
    let store =
        tv_nats::EventStore::connect(&cli.nats_url, tv_nats::Naming::new(&cli.prefix)).await?;
    // Orders first: once they have settled, their seat sales are in the inventory stream too.
    let orders = if total.orders.is_empty() {
        None
    } else {
        Some(orders::audit(&store, &total.orders).await?)
    };
    let waited = expiry::wait(&store, event_id, &total.acked).await?;
    let (fold, mut stream_audit) = audit::load(cli, event_id).await?;
    audit::check_holds(&fold, &total.acked, &mut stream_audit);
    // Retries answered differently were found during the sale.
    stream_audit.violations.append(&mut report.audit.violations);
    if let Some(orders) = &orders {
        stream_audit
            .violations
            .extend(orders.violations.iter().cloned());
    }
    let mut abandoned = expiry::report(&fold, &total.acked, waited);
    if cli.read_audit() {
        let settled = orders.as_ref().map_or(&[][..], |o| &o.settled[..]);
        let sale = read_audit::Sale {
            event_id,
            holds: &total.acked,
            orders: settled,
        };
        let read = read_audit::run(cli, api, &sale, fold).await?;
        abandoned.tickets_returned = Some(read.abandoned_tickets_returned);
        report.read_audit = Some(read);
    }
    report.audit = stream_audit;
    report.abandoned = (abandoned.holds > 0).then_some(abandoned);
    report.orders = orders.map(|audit| OrdersReport {
        placed: total.orders.len() as u64,
        latency: Latency::from(&total.order_latency_us),
        audit,
    });
    Ok(())
}

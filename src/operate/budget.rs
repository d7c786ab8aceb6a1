//! Publishing each connector's rate budget to `connector_budget`, so `hubsync status` in
//! another process can show what the daemon may still spend.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::connector::Connector;
use crate::store;

/// Upserts every connector's [`Connector::budget`] each `interval` until `shutdown`.
pub async fn publish_budgets(
    pool: PgPool,
    connectors: Vec<(String, Arc<dyn Connector>)>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        if let Err(err) = publish_once(&pool, &connectors).await {
            tracing::warn!(error = %crate::error_kind::report(&err), "cannot publish rate budgets");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// One upsert of every connector's budget.
pub async fn publish_once(
    pool: &PgPool,
    connectors: &[(String, Arc<dyn Connector>)],
) -> Result<(), sqlx::Error> {
    let mut names = Vec::new();
    let mut rates: Vec<Option<f64>> = Vec::new();
    let mut daily: Vec<Option<i64>> = Vec::new();
    let mut paused = Vec::new();
    for (name, connector) in connectors {
        let budget = connector.budget();
        names.push(name.clone());
        rates.push(Some(budget.requests_per_second).filter(|rate| rate.is_finite()));
        daily.push(budget.daily_remaining.map(|left| i64::try_from(left).unwrap_or(i64::MAX)));
        paused.push(budget.paused_until);
    }
    store::budget::publish(pool, names, rates, daily, paused).await
}

//! The blast-radius guard: a sync block whose writes would delete or overwrite more than a
//! configured share of an object's records within a window is paused, and an operator
//! decides whether to resume it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::config::BlastRadiusSettings;
use crate::connector::Connector;
use crate::store::outbox::{self, Operation, OutboxItem};
use crate::store::paused;

/// How long an object's record count is trusted.
const COUNT_FRESH: Duration = Duration::from_secs(300);

type Counted = (Instant, Option<u64>);

pub struct Guard {
    settings: BlastRadiusSettings,
    /// Record counts by `(connector, object)`, with when they were read.
    counts: Mutex<HashMap<(String, String), Counted>>,
}

impl Guard {
    pub fn new(settings: BlastRadiusSettings) -> Self {
        Guard { settings, counts: Mutex::new(HashMap::new()) }
    }

    /// Whether `items` (one group) may be sent. If they would push the block past its
    /// share, the block is paused, audited, and `false` returned.
    pub async fn allows(
        &self,
        pool: &PgPool,
        api: &Arc<dyn Connector>,
        items: &[OutboxItem],
    ) -> Result<bool, sqlx::Error> {
        let Some(first) = items.first() else { return Ok(true) };
        if !self.settings.enabled
            || !matches!(first.operation, Operation::Update | Operation::Archive)
        {
            return Ok(true);
        }
        let (sync, side, window) = (&first.sync_name, first.target_side, self.settings.window);
        let recent = outbox::recent_overwrites(pool, sync, side, window).await?;
        let overwrites = items.iter().filter(|i| i.intent != "link").count() as u64;
        if overwrites == 0 {
            return Ok(true);
        }
        let touched = recent as u64 + overwrites;
        if touched < u64::from(self.settings.min_records) {
            return Ok(true);
        }
        let Some(total) = self.count(api, &first.connector, &first.object_type).await else {
            return Ok(true);
        };
        let limit = self.settings.max_share * total.max(1) as f64;
        if (touched as f64) <= limit {
            return Ok(true);
        }
        pause(pool, first, touched, total, &self.settings).await?;
        Ok(false)
    }

    async fn count(&self, api: &Arc<dyn Connector>, connector: &str, object: &str) -> Option<u64> {
        let key = (connector.to_string(), object.to_string());
        let mut counts = self.counts.lock().await;
        if let Some((at, count)) = counts.get(&key)
            && at.elapsed() < COUNT_FRESH
        {
            return *count;
        }
        let count = api.count(object).await.ok().flatten();
        counts.insert(key, (Instant::now(), count));
        count
    }
}

async fn pause(
    pool: &PgPool,
    item: &OutboxItem,
    touched: u64,
    total: u64,
    settings: &BlastRadiusSettings,
) -> Result<(), sqlx::Error> {
    let detail = json!({
        "target_side": item.target_side.as_str(),
        "object": item.object_type,
        "deletes_and_overwrites": touched,
        "records": total,
        "max_share": settings.max_share,
        "window_seconds": settings.window.as_secs(),
    });
    let mut tx = pool.begin().await?;
    if paused::pause_for_blast_radius(&mut *tx, &item.sync_name, &detail).await? {
        let target = json!({ "sync": item.sync_name });
        crate::store::audit::record(&mut *tx, "hubsync", "pause", target, detail.clone()).await?;
        tracing::warn!(
            sync = %item.sync_name, touched, records = total,
            "blast-radius guard paused the sync block; resume it with `hubsync resume {}`",
            item.sync_name
        );
        metrics::gauge!(crate::metrics::PAUSED, "sync" => item.sync_name.clone()).set(1.0);
    }
    tx.commit().await
}

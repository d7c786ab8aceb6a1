//! `hubsync status`: per `[[sync]]` block, is the sync keeping up, what is failing, what is
//! paused; per connector, the rate budget left. A handful of indexed queries, run at once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use super::OperateError;
use crate::config::{Settings, Side, SyncRule};
use crate::store::read::status::{self as status_sql, Facts, ObjectKey};

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub generated_at: DateTime<Utc>,
    pub syncs: Vec<SyncStatus>,
    pub connectors: Vec<ConnectorBudget>,
}

/// One object pair.
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    pub name: String,
    /// The oldest change not yet processed, on either side.
    pub lag: Option<Lag>,
    /// Journal rows pending or processing, both sides.
    pub journal_depth: i64,
    /// Outbox items pending or processing.
    pub outbox_depth: i64,
    pub rates_5m: Rates,
    pub failures: Failures,
    pub sides: Vec<SideStatus>,
    pub paused: Option<Paused>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Lag {
    pub side: Side,
    pub journal_id: i64,
    pub received_at: DateTime<Utc>,
    pub age_seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rates {
    pub changes_received: i64,
    pub writes_done: i64,
    pub writes_failed: i64,
}

/// Counts by error kind of failed and dead rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Failures {
    pub journal: BTreeMap<String, i64>,
    pub outbox: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SideStatus {
    pub side: Side,
    pub connector: String,
    pub object: String,
    pub journal_depth: i64,
    pub changes_received_5m: i64,
    pub poller_live: bool,
    pub cursors: Vec<status_sql::CursorRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Paused {
    pub reason: String,
    pub detail: Value,
    pub paused_at: DateTime<Utc>,
    pub paused_by: String,
    pub resume_command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectorBudget {
    pub connector: String,
    /// `None` until a running daemon has published this connector's budget.
    pub budget: Option<status_sql::BudgetRow>,
}

/// The status of every configured block.
pub async fn status(pool: &PgPool, settings: &Settings) -> Result<StatusReport, OperateError> {
    let objects = objects(settings);
    let facts = status_sql::gather(pool, &objects).await?;
    let now = Utc::now();
    let syncs = settings.sync.iter().map(|rule| block(rule, &facts, now)).collect();
    let mut names: BTreeSet<String> = settings.connectors.keys().cloned().collect();
    names.extend(objects.iter().map(|(connector, _)| connector.clone()));
    let connectors = names
        .into_iter()
        .map(|name| ConnectorBudget { budget: facts.budgets.get(&name).cloned(), connector: name })
        .collect();
    Ok(StatusReport { generated_at: now, syncs, connectors })
}

/// Every (connector, object) the blocks read.
fn objects(settings: &Settings) -> Vec<ObjectKey> {
    let mut set = BTreeSet::new();
    for rule in &settings.sync {
        set.insert(side_key(rule, Side::Hubspot));
        set.insert(side_key(rule, Side::External));
    }
    set.into_iter().collect()
}

fn side_key(rule: &SyncRule, side: Side) -> ObjectKey {
    match side {
        Side::Hubspot => (rule.hubspot_connector.clone(), rule.hubspot_object.clone()),
        Side::External => (rule.external_connector.clone(), rule.external_object.clone()),
    }
}

fn block(rule: &SyncRule, facts: &Facts, now: DateTime<Utc>) -> SyncStatus {
    let sides: Vec<SideStatus> =
        [Side::Hubspot, Side::External].into_iter().map(|s| side(rule, s, facts)).collect();
    let outbox = facts.outbox.get(&rule.name).cloned().unwrap_or_default();
    let mut failures = Failures { outbox: outbox.failures, ..Default::default() };
    for key in [side_key(rule, Side::Hubspot), side_key(rule, Side::External)] {
        for (kind, count) in facts.journal_failures.get(&key).into_iter().flatten() {
            *failures.journal.entry(kind.clone()).or_default() += count;
        }
    }
    SyncStatus {
        name: rule.name.clone(),
        lag: lag(rule, facts, now),
        journal_depth: sides.iter().map(|s| s.journal_depth).sum(),
        outbox_depth: outbox.depth,
        rates_5m: Rates {
            changes_received: sides.iter().map(|s| s.changes_received_5m).sum(),
            writes_done: outbox.done_5m,
            writes_failed: outbox.failed_5m,
        },
        failures,
        sides,
        paused: facts.paused.get(&rule.name).map(|row| paused(rule, row)),
    }
}

fn side(rule: &SyncRule, side: Side, facts: &Facts) -> SideStatus {
    let key = side_key(rule, side);
    let queue = facts.queues.get(&key);
    SideStatus {
        side,
        journal_depth: queue.map_or(0, |q| q.depth),
        changes_received_5m: facts.received_5m.get(&key).copied().unwrap_or(0),
        poller_live: facts.live.contains(&key),
        cursors: facts.cursors.get(&key).cloned().unwrap_or_default(),
        connector: key.0,
        object: key.1,
    }
}

/// The older of the two sides' oldest pending rows.
fn lag(rule: &SyncRule, facts: &Facts, now: DateTime<Utc>) -> Option<Lag> {
    [Side::Hubspot, Side::External]
        .into_iter()
        .filter_map(|side| {
            let queue = facts.queues.get(&side_key(rule, side))?;
            let (id, at) = queue.oldest?;
            Some(Lag {
                side,
                journal_id: id,
                received_at: at,
                age_seconds: ((now - at).num_milliseconds().max(0) as f64) / 1000.0,
            })
        })
        .min_by_key(|lag| lag.received_at)
}

fn paused(rule: &SyncRule, row: &status_sql::PausedRow) -> Paused {
    Paused {
        reason: row.reason.clone(),
        detail: row.detail.clone(),
        paused_at: row.paused_at,
        paused_by: row.paused_by.clone(),
        resume_command: format!("hubsync resume {}", rule.name),
    }
}

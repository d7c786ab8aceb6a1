//! Which pollers a configuration runs: one per (connector, object) named by the sync rules,
//! requesting every field the rules read on that side.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::PgPool;

use super::poller::Poller;
use super::settle_hook::PreSettle;
use super::sweep::{GoneGuard, Sweep};
use crate::config::{Settings, Side, SyncRule};
use crate::connector::{self, Connector, ConnectorError};
use crate::journal::Doorbell;
use crate::rules::feeds::{PollerSpec, specs};

/// The connectors of a process, by config name.
pub type Connectors = BTreeMap<String, Arc<dyn Connector>>;

/// One connector per config entry named by the sync rules, shared by every task of the
/// process so each account's rate budget is spent once.
pub fn connectors(
    settings: &Settings,
) -> Result<BTreeMap<String, Arc<dyn Connector>>, ConnectorError> {
    let mut built: BTreeMap<String, Arc<dyn Connector>> = BTreeMap::new();
    for rule in &settings.sync {
        for name in [&rule.hubspot_connector, &rule.external_connector] {
            if built.contains_key(name) {
                continue;
            }
            let Some(config) = settings.connectors.get(name) else { continue };
            built.insert(
                name.clone(),
                connector::from_settings(name, config, &settings.instance.id)?,
            );
        }
    }
    Ok(built)
}

/// The ingest tasks of a configuration, sharing one connector per config entry.
pub struct IngestTasks {
    pub pollers: Vec<Poller>,
    pub sweeps: Vec<Sweep>,
}

/// Builds the connectors the specs need, a poller for each spec, and its drift sweep. The
/// pollers settle what `presettle` finds settled as they journal it.
pub fn tasks(
    settings: &Settings,
    pool: &PgPool,
    doorbell: &Doorbell,
    built: &BTreeMap<String, Arc<dyn Connector>>,
    presettle: Arc<dyn PreSettle>,
) -> IngestTasks {
    let mut tasks = IngestTasks { pollers: Vec::new(), sweeps: Vec::new() };
    for spec in specs(settings) {
        let Some(api) = built.get(&spec.connector).cloned() else { continue };
        let names = sync_names(settings, &spec);
        let guard = GoneGuard {
            max_share: settings.ingest.sweep_max_gone_share,
            min_records: settings.ingest.sweep_min_gone_records as usize,
        };
        let sweep = Sweep::new(spec.clone(), api.clone(), pool.clone(), names);
        let sweep = sweep.with_gone_guard(guard);
        tasks.sweeps.push(sweep.with_doorbell(doorbell.clone()));
        let poller = Poller::new(spec, api, pool.clone(), doorbell.clone());
        tasks.pollers.push(poller.with_presettle(presettle.clone()));
    }
    tasks
}

/// The `[[sync]]` blocks that read this spec's side and object.
pub fn sync_names(settings: &Settings, spec: &PollerSpec) -> Vec<String> {
    let reads = |rule: &&SyncRule| match spec.side {
        Side::Hubspot => {
            rule.hubspot_connector == spec.connector && rule.hubspot_object == spec.object
        }
        Side::External => {
            rule.external_connector == spec.connector && rule.external_object == spec.object
        }
    };
    settings.sync.iter().filter(reads).map(|rule| rule.name.clone()).collect()
}

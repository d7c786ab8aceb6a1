//! Which pollers a configuration runs: one per (connector, object) named by the sync rules,
//! requesting every field the rules read on that side.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sqlx::PgPool;

use super::poller::{Poller, PollerSpec};
use super::sweep::Sweep;
use crate::config::{Settings, Side, SyncRule};
use crate::connector::{self, Connector, ConnectorError};
use crate::journal::Doorbell;
use crate::reconcile::presettle::Presettle;
use crate::rules::filter::properties_read;

/// The pollers' specs, in a stable order.
pub fn specs(settings: &Settings) -> Vec<PollerSpec> {
    let mut fields: BTreeMap<(String, Side, String), BTreeSet<String>> = BTreeMap::new();
    for rule in &settings.sync {
        // a one-way block never reads its target side: nothing there moves
        let sources = [Side::Hubspot, Side::External]
            .into_iter()
            .filter(|side| crate::rules::writes_to(rule, side.other()));
        for side in sources {
            let (connector, object) = match side {
                Side::Hubspot => (&rule.hubspot_connector, &rule.hubspot_object),
                Side::External => (&rule.external_connector, &rule.external_object),
            };
            let key = (connector.clone(), side, object.clone());
            fields.entry(key).or_default().extend(fields_read(rule, side));
        }
    }
    let interval = settings.ingest.poll_interval;
    fields
        .into_iter()
        .map(|((connector, side, object), fields)| PollerSpec {
            connector,
            side,
            object,
            fields: fields.into_iter().collect(),
            interval,
        })
        .collect()
}

/// Mapped fields, keys and filter properties of `rule` on `side`.
fn fields_read(rule: &SyncRule, side: Side) -> Vec<String> {
    let keys = &rule.keys;
    let mut fields: Vec<String> = match side {
        Side::Hubspot => rule.fields.iter().map(|f| f.hubspot.clone()).collect(),
        Side::External => rule.fields.iter().map(|f| f.external.clone()).collect(),
    };
    let key_fields = match side {
        Side::Hubspot => {
            [keys.hubspot_unique_property.clone(), keys.shared.as_ref().map(|s| s.hubspot.clone())]
        }
        Side::External => {
            [keys.external_id_field.clone(), keys.shared.as_ref().map(|s| s.external.clone())]
        }
    };
    fields.extend(key_fields.into_iter().flatten());
    fields.extend(properties_read(&rule.filter, side));
    if side == Side::External {
        // associations are carried as the external record's lookup fields
        fields.extend(rule.associations.iter().map(|a| a.external_field.clone()));
    }
    fields
}

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

/// Builds the connectors the specs need, a poller for each spec, and its drift sweep.
pub fn tasks(
    settings: &Settings,
    pool: &PgPool,
    doorbell: &Doorbell,
    built: &BTreeMap<String, Arc<dyn Connector>>,
) -> IngestTasks {
    let mut tasks = IngestTasks { pollers: Vec::new(), sweeps: Vec::new() };
    let presettle = Arc::new(Presettle::new(settings.sync.clone()));
    for spec in specs(settings) {
        let Some(api) = built.get(&spec.connector).cloned() else { continue };
        let names = sync_names(settings, &spec);
        let sweep = Sweep::new(spec.clone(), api.clone(), pool.clone(), names);
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

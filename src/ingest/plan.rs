//! Which pollers a configuration runs: one per (connector, object) named by the sync rules,
//! requesting every field the rules read on that side.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sqlx::PgPool;

use super::poller::{Poller, PollerSpec};
use crate::config::{Settings, Side, SyncRule};
use crate::connector::{self, Connector, ConnectorError};
use crate::journal::Doorbell;
use crate::reconcile::filter::properties_read;

/// The pollers' specs, in a stable order.
pub fn specs(settings: &Settings) -> Vec<PollerSpec> {
    let mut fields: BTreeMap<(String, Side, String), BTreeSet<String>> = BTreeMap::new();
    for rule in &settings.sync {
        for side in [Side::Hubspot, Side::External] {
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
    fields
}

/// Builds the connectors the specs need and a poller for each spec.
pub fn pollers(
    settings: &Settings,
    pool: &PgPool,
    doorbell: &Doorbell,
) -> Result<Vec<Poller>, ConnectorError> {
    let mut built: BTreeMap<String, Arc<dyn Connector>> = BTreeMap::new();
    let mut pollers = Vec::new();
    for spec in specs(settings) {
        let api = match built.get(&spec.connector) {
            Some(api) => api.clone(),
            None => {
                let config = &settings.connectors[&spec.connector];
                let api = connector::from_settings(config, &settings.instance.id)?;
                built.insert(spec.connector.clone(), api.clone());
                api
            }
        };
        pollers.push(Poller::new(spec, api, pool.clone(), doorbell.clone()));
    }
    Ok(pollers)
}

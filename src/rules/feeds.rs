//! What the sync rules read: one feed per (connector, object) a rule moves records from,
//! with every field the rules read there, and how an observed record of a feed becomes a
//! journalled change (its properties and its dedup key).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::filter::properties_read;
use super::transform::{as_text, is_blank};
use crate::config::{Settings, Side, SyncRule};
use crate::connector;
use crate::journal::{Arrival, ChangeKind, NewChange, PropertyChange};

/// What one poller watches.
#[derive(Debug, Clone)]
pub struct PollerSpec {
    pub connector: String,
    pub side: Side,
    pub object: String,
    /// Fields requested on every changed record.
    pub fields: Vec<String>,
    pub interval: Duration,
}

impl PollerSpec {
    /// A change to record `id` observed on this spec's side and object, keyed by
    /// [`change_key`] so every path that sees the same change journals it once.
    pub fn observed(
        &self,
        id: &str,
        kind: ChangeKind,
        properties: BTreeMap<String, PropertyChange>,
        occurred_at: DateTime<Utc>,
        source: Arrival,
    ) -> NewChange {
        NewChange {
            side: self.side,
            connector: self.connector.clone(),
            object_type: self.object.clone(),
            record_id: id.to_string(),
            dedup_key: change_key(self, id, &kind, occurred_at, &properties),
            kind,
            properties,
            occurred_at,
            source,
        }
    }
}

/// The pollers' specs, in a stable order.
pub fn specs(settings: &Settings) -> Vec<PollerSpec> {
    let mut fields: BTreeMap<(String, Side, String), BTreeSet<String>> = BTreeMap::new();
    for rule in &settings.sync {
        // a one-way block never reads its target side: nothing there moves
        let sources = [Side::Hubspot, Side::External]
            .into_iter()
            .filter(|side| super::writes_to(rule, side.other()));
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

/// The dedup key of an observed change: object, id, kind, modification time and a digest
/// of the values read. Polls and backfills build it the same way, so a change seen by both
/// is journalled once. The digest keeps apart two edits that share a modification time:
/// Salesforce stamps whole seconds, so a record edited twice within one second, and read
/// between the edits, must still journal its second version.
pub fn change_key(
    spec: &PollerSpec,
    id: &str,
    kind: &ChangeKind,
    at: DateTime<Utc>,
    properties: &BTreeMap<String, PropertyChange>,
) -> String {
    if let ChangeKind::Merge { into } = kind {
        // a merge happens once, however often the survivor is read again
        return format!("change:{}:{}:{id}:merge:{into}", spec.connector, spec.object);
    }
    let ms = at.timestamp_millis();
    let key = format!("change:{}:{}:{id}:{}:{ms}", spec.connector, spec.object, kind.as_str());
    if properties.is_empty() { key } else { format!("{key}:{}", values_digest(properties)) }
}

/// A stable digest of the values read (not their timestamps): 16 hex digits of SHA-256.
fn values_digest(properties: &BTreeMap<String, PropertyChange>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (name, change) in properties {
        hasher.update(name.as_bytes());
        match &change.value {
            Some(value) => {
                hasher.update([1]);
                hasher.update(value.as_bytes());
            }
            None => hasher.update([2]),
        }
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A record's fields, each stamped with the record's modification time.
pub fn record_properties(record: &connector::Record) -> BTreeMap<String, PropertyChange> {
    record
        .properties
        .iter()
        .map(|(name, value)| {
            let value = (!is_blank(value)).then(|| as_text(value));
            (name.clone(), PropertyChange { value, timestamp: Some(record.modified_at) })
        })
        .collect()
}

//! What the reconciler knows about a batch of journal rows before it decides anything:
//! hydrated records, HubSpot associations, links, record state, match candidates and the
//! writes already in flight. Gathered with batched API reads and queries, outside any
//! transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::config::Side;
use crate::connector::Record;
use crate::rules::transform::OwnerMap;
use crate::store::links::Link;
use crate::store::record_state::PairState;

/// `(sync_name, side, record_id)`.
pub type RecordRef = (String, Side, String);

/// A record by `(side, connector, object, id)`.
pub type SourceRef = (Side, String, String, String);

#[derive(Default)]
pub struct Context {
    /// Records read again because the journal row alone is partial (webhook events,
    /// restores); `None` when the record is gone.
    pub records: HashMap<SourceRef, Option<Record>>,
    /// The first associated record of each HubSpot record read: `(sync, to_sync, id)`.
    pub associations: HashMap<(String, String, String), Option<String>>,
    /// Links of the rows' records and of their match candidates.
    pub links: HashMap<RecordRef, Link>,
    /// What is known of each linked pair, by link id; updated as rows are decided.
    pub states: HashMap<i64, PairState>,
    /// For an unlinked record, the record on the other side it matched by key.
    pub partners: HashMap<RecordRef, Record>,
    /// Records with a write to or from them still in flight.
    pub busy: HashSet<RecordRef>,
    /// Association writes still in flight: `(sync, source side, source id, to_sync)` → the
    /// associated records (by source-side id; empty for a removal).
    pub busy_associations: HashMap<(String, Side, String, String), Vec<String>>,
    /// `(sync, side, unique value)` of creates in flight.
    pub busy_keys: HashSet<RecordRef>,
    /// For privacy deletions to scrub: the fields each block's target requires, lowercased,
    /// by `(sync, side)`.
    pub required: HashMap<(String, Side), HashSet<String>>,
    /// Owner ids of both sides, by sync block, where its fields map owners.
    pub owners: HashMap<String, std::sync::Arc<OwnerMap>>,
}

impl Context {
    pub fn link(&self, sync: &str, side: Side, id: &str) -> Option<&Link> {
        self.links.get(&(sync.to_string(), side, id.to_string()))
    }

    pub fn add_link(&mut self, link: Link) {
        let hubspot = (link.sync_name.clone(), Side::Hubspot, link.hubspot_id.clone());
        let external = (link.sync_name.clone(), Side::External, link.external_id.clone());
        self.links.insert(hubspot, link.clone());
        self.links.insert(external, link);
    }

    /// Marks a record as having a write in flight, so later rows of it wait.
    pub fn mark_busy(&mut self, sync: &str, side: Side, id: &str) {
        self.busy.insert((sync.to_string(), side, id.to_string()));
    }

    pub fn is_busy(&self, sync: &str, side: Side, id: &str) -> bool {
        self.busy.contains(&(sync.to_string(), side, id.to_string()))
    }
}

/// A journal row's properties merged with its hydrated record: `field → (value, at)`.
pub type Observed = std::collections::BTreeMap<String, (Value, DateTime<Utc>)>;

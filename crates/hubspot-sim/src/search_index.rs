//! What search sees: a copy of each record taken when it changed, visible only once the
//! configured indexing lag has passed on the sim clock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use super::properties::parse_datetime;
use super::store::Record;

/// A record as the search index holds it.
#[derive(Debug, Clone)]
pub struct SearchDoc {
    pub id: u64,
    pub properties: HashMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The object's last-modified property as epoch ms, read once here: every page of an
    /// incremental read filters and sorts all records by it.
    pub modified_ms: Option<f64>,
}

#[derive(Debug)]
struct Pending {
    visible_at: i64,
    type_id: String,
    id: u64,
    /// `None` removes the record from the index (archived or deleted).
    doc: Option<Arc<SearchDoc>>,
}

/// Indexed documents per object type, plus changes still in flight.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    visible: HashMap<String, BTreeMap<u64, Arc<SearchDoc>>>,
    pending: VecDeque<Arc<PendingCell>>,
    /// Records whose changes stay out of search until a time (epoch ms), whatever the lag.
    held: HashMap<(String, u64), i64>,
}

/// Wrapper so the index stays `Clone` without cloning the pending queue's contents.
#[derive(Debug)]
pub struct PendingCell(Pending);

impl SearchIndex {
    /// Records that `record` changed; the change shows from `visible_at` (epoch ms) on.
    /// `modified` names the object's last-modified property.
    pub fn stage(
        &mut self,
        type_id: &str,
        record: &Record,
        modified: Option<&str>,
        visible_at: i64,
    ) {
        let doc = (!record.archived()).then(|| {
            let modified_ms = modified
                .and_then(|name| record.properties.get(name))
                .and_then(|value| parse_datetime(value))
                .map(|at| at.timestamp_millis() as f64);
            Arc::new(SearchDoc {
                id: record.id,
                properties: record.properties.clone(),
                created_at: record.created_at,
                updated_at: record.updated_at,
                modified_ms,
            })
        });
        self.push(type_id, record.id, doc, visible_at);
    }

    /// Records that a record is gone for good (merged away, GDPR-deleted).
    pub fn stage_removal(&mut self, type_id: &str, id: u64, visible_at: i64) {
        self.push(type_id, id, None, visible_at);
    }

    fn push(&mut self, type_id: &str, id: u64, doc: Option<Arc<SearchDoc>>, visible_at: i64) {
        let pending = Pending { visible_at, type_id: type_id.to_string(), id, doc };
        self.pending.push_back(Arc::new(PendingCell(pending)));
    }

    /// Keeps a record's changes, staged or to come, out of search until `until` (epoch ms):
    /// one write indexed later than the others.
    pub fn hold(&mut self, type_id: &str, id: u64, until: i64) {
        self.held.insert((type_id.to_string(), id), until);
    }

    /// Applies every staged change whose time has come. Changes apply in the order made;
    /// a held record's changes wait, in their order, until its hold ends.
    pub fn catch_up(&mut self, now: i64) {
        self.held.retain(|_, until| *until > now);
        let mut waiting = VecDeque::new();
        while self.pending.front().is_some_and(|p| p.0.visible_at <= now) {
            let Some(cell) = self.pending.pop_front() else { break };
            let Pending { type_id, id, doc, .. } = &cell.0;
            if !self.held.is_empty() && self.held.contains_key(&(type_id.clone(), *id)) {
                waiting.push_back(cell);
                continue;
            }
            let docs = self.visible.entry(type_id.clone()).or_default();
            match doc {
                Some(doc) => docs.insert(*id, doc.clone()),
                None => docs.remove(id),
            };
        }
        while let Some(cell) = waiting.pop_back() {
            self.pending.push_front(cell);
        }
    }

    /// The visible documents of a type, in id order.
    pub fn docs(&self, type_id: &str) -> impl Iterator<Item = &Arc<SearchDoc>> {
        self.visible.get(type_id).into_iter().flat_map(|docs| docs.values())
    }
}

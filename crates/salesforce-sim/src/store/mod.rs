//! The org's records in memory, indexed by id and by external-id and unique field values,
//! with an undo log so an all-or-none batch can be rolled back.

mod lifecycle;
mod rules;
mod write;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::{DatetimePrecision, DeletedStatus, SimConfig, UnknownIdOnWrite};
use super::ids;
use super::schema::{ObjectDef, Schema};
use super::value::index_key;

pub use rules::RecordRule;
pub use write::{Actor, Upserted};

/// One record: its object's canonical name and its field values by canonical field name,
/// system fields included.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub object: String,
    pub fields: Map<String, Value>,
    /// When it went to the recycle bin; `None` while live.
    #[serde(default)]
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Record {
    pub fn id(&self) -> &str {
        self.fields.get("Id").and_then(Value::as_str).unwrap_or_default()
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub fn get(&self, field: &str) -> &Value {
        self.fields.get(field).unwrap_or(&Value::Null)
    }
}

/// The records of one object, by id (ids sort in creation order), with value indexes.
#[derive(Debug, Default)]
pub struct Table {
    pub records: BTreeMap<String, Record>,
    /// field name → lowercased value → ids of live records holding it.
    index: HashMap<String, HashMap<String, Vec<String>>>,
}

/// A change an all-or-none batch may have to take back.
#[derive(Debug)]
enum Undo {
    Created { object: String, id: String },
    Replaced(Box<Record>),
}

/// The switches of [`SimConfig`] the store applies to its answers and stamps.
#[derive(Debug, Clone, Copy, Default)]
pub struct Behaviour {
    pub deleted_status: DeletedStatus,
    pub unknown_id_on_write: UnknownIdOnWrite,
    pub precision: DatetimePrecision,
}

impl Behaviour {
    pub fn of(config: &SimConfig) -> Self {
        Behaviour {
            deleted_status: config.entity_is_deleted_status,
            unknown_id_on_write: config.unknown_id_on_write,
            precision: config.datetime_precision,
        }
    }
}

/// Everything the simulated org stores.
#[derive(Debug)]
pub struct Store {
    pub schema: Arc<Schema>,
    pub behaviour: Behaviour,
    tables: HashMap<String, Table>,
    next_sequence: u64,
    undo: Option<Vec<Undo>>,
    rules: Vec<RecordRule>,
    /// No record in the recycle bin went there before this: purging can wait until then
    /// plus the retention.
    earliest_deleted: Option<DateTime<Utc>>,
}

/// What persistence saves: every record and the id sequence.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoreSnapshot {
    pub next_sequence: u64,
    pub records: Vec<Record>,
}

impl Store {
    pub fn new(schema: Arc<Schema>) -> Self {
        let tables = schema.objects().iter().map(|o| (o.name.clone(), Table::default())).collect();
        Store {
            schema,
            behaviour: Behaviour::default(),
            tables,
            next_sequence: 1,
            undo: None,
            rules: Vec::new(),
            earliest_deleted: None,
        }
    }

    pub fn object(&self, name: &str) -> Option<Arc<ObjectDef>> {
        self.schema.object(name).cloned()
    }

    pub fn table(&self, object: &str) -> &Table {
        self.tables.get(object).expect("a table per schema object")
    }

    fn table_mut(&mut self, object: &str) -> &mut Table {
        self.tables.get_mut(object).expect("a table per schema object")
    }

    /// The record with this id (15 or 18 characters, any case), live or deleted.
    pub fn get(&self, id: &str) -> Option<&Record> {
        let id = ids::normalize(id)?;
        let object = self.schema.object_by_prefix(ids::prefix(&id))?;
        self.table(&object.name).records.get(&id)
    }

    /// Live records of `object` whose indexed `field` holds `value`.
    pub fn find_indexed(&self, object: &str, field: &str, value: &Value) -> Vec<&Record> {
        let table = self.table(object);
        let Some(key) = index_key(value) else { return Vec::new() };
        let ids = table.index.get(field).and_then(|values| values.get(&key));
        ids.into_iter().flatten().filter_map(|id| table.records.get(id)).collect()
    }

    fn next_id(&mut self, prefix: &str) -> String {
        let id = ids::make(prefix, self.next_sequence);
        self.next_sequence += 1;
        id
    }

    fn index_insert(&mut self, record: &Record) {
        let object = self.object(&record.object).expect("known object");
        let table = self.table_mut(&record.object);
        for field in object.indexed_fields() {
            if let Some(key) = index_key(record.get(&field.name)) {
                let ids =
                    table.index.entry(field.name.clone()).or_default().entry(key).or_default();
                ids.push(record.id().to_string());
            }
        }
    }

    fn index_remove(&mut self, record: &Record) {
        let object = self.object(&record.object).expect("known object");
        let table = self.table_mut(&record.object);
        for field in object.indexed_fields() {
            let Some(key) = index_key(record.get(&field.name)) else { continue };
            if let Some(values) = table.index.get_mut(&field.name)
                && let Some(ids) = values.get_mut(&key)
            {
                ids.retain(|id| id != record.id());
                if ids.is_empty() {
                    values.remove(&key);
                }
            }
        }
    }

    /// Stores `record`, replacing any earlier version, and keeps the indexes and undo log.
    fn put(&mut self, record: Record) {
        let previous = self.table_mut(&record.object).records.remove(record.id());
        if let Some(old) = &previous
            && !old.is_deleted()
        {
            self.index_remove(old);
        }
        if let Some(log) = self.undo.as_mut() {
            log.push(match previous {
                Some(old) => Undo::Replaced(Box::new(old)),
                None => Undo::Created { object: record.object.clone(), id: record.id().into() },
            });
        }
        match record.deleted_at {
            None => self.index_insert(&record),
            Some(at) => {
                self.earliest_deleted = Some(self.earliest_deleted.map_or(at, |e| e.min(at)));
            }
        }
        let id = record.id().to_string();
        self.table_mut(&record.object.clone()).records.insert(id, record);
    }

    /// Starts recording changes so [`Store::rollback`] can take them back.
    pub fn begin(&mut self) {
        self.undo = Some(Vec::new());
    }

    pub fn commit(&mut self) {
        self.undo = None;
    }

    /// Takes back every change since [`Store::begin`].
    pub fn rollback(&mut self) {
        let Some(log) = self.undo.take() else { return };
        for change in log.into_iter().rev() {
            match change {
                Undo::Created { object, id } => self.remove(&object, &id),
                Undo::Replaced(old) => {
                    self.remove(&old.object.clone(), old.id());
                    self.put(*old);
                }
            }
        }
    }

    fn remove(&mut self, object: &str, id: &str) {
        if let Some(old) = self.table_mut(object).records.remove(id)
            && !old.is_deleted()
        {
            self.index_remove(&old);
        }
    }

    pub fn snapshot(&self) -> StoreSnapshot {
        let records =
            self.tables.values().flat_map(|t| t.records.values().cloned()).collect::<Vec<_>>();
        StoreSnapshot { next_sequence: self.next_sequence, records }
    }

    /// Loads saved records; records of objects the schema no longer has are an error.
    pub fn restore(&mut self, snapshot: StoreSnapshot) -> Result<(), String> {
        self.next_sequence = self.next_sequence.max(snapshot.next_sequence);
        for record in snapshot.records {
            if self.schema.object(&record.object).is_none() {
                return Err(format!("saved state has records of unknown object {}", record.object));
            }
            self.put(record);
        }
        Ok(())
    }

    /// How many records `object` has, live only or with the recycle bin.
    pub fn count(&self, object: &str, include_deleted: bool) -> usize {
        let records = self.table(object).records.values();
        records.filter(|r| include_deleted || !r.is_deleted()).count()
    }
}

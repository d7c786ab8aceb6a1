//! What happens to records besides plain writes: merges, undelete, system-driven changes
//! and the recycle bin emptying itself.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::write::touch;
use super::{Actor, Store};
use crate::error::SfError;
use crate::schema::FieldType;
use crate::value::format_datetime;

impl Store {
    /// Merges up to two `losers` into `master`, as Salesforce's merge does: losers go to the
    /// recycle bin with `MasterRecordId` set, their children are reparented to the master,
    /// and the master is updated.
    pub fn merge(
        &mut self,
        master: &str,
        losers: &[String],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), SfError> {
        let now = self.stamp_time(now);
        let master_record = self.get(master).ok_or_else(SfError::not_found)?.clone();
        let object = self.object(&master_record.object).expect("known object");
        if !object.mergeable || losers.is_empty() || losers.len() > 2 {
            let message = format!("cannot merge {} records of {}", losers.len() + 1, object.name);
            return Err(SfError::bad_request("INVALID_OPERATION", message));
        }
        let master_id = self.live(&object, master)?.id().to_string();
        let mut loser_ids = Vec::new();
        for loser in losers {
            let record = self.live(&object, loser)?.clone();
            loser_ids.push(record.id().to_string());
            let mut record = record;
            record.fields.insert("IsDeleted".into(), Value::Bool(true));
            record.fields.insert("MasterRecordId".into(), Value::String(master_id.clone()));
            record.deleted_at = Some(now);
            touch(&mut record, actor, now);
            self.put(record);
        }
        self.reparent(&loser_ids, &master_id, actor, now);
        let mut master_record = self.live(&object, &master_id)?.clone();
        touch(&mut master_record, actor, now);
        self.put(master_record);
        Ok(())
    }

    fn reparent(&mut self, from: &[String], to: &str, actor: &Actor, now: DateTime<Utc>) {
        let mut children = Vec::new();
        for (name, table) in &self.tables {
            let object = self.schema.object(name).expect("known object");
            let references: Vec<&str> = object
                .fields
                .iter()
                .filter(|f| f.kind == FieldType::Reference && f.name != "MasterRecordId")
                .map(|f| f.name.as_str())
                .collect();
            for record in table.records.values().filter(|r| !r.is_deleted()) {
                let points = references.iter().filter(|f| {
                    record.get(f).as_str().is_some_and(|id| from.iter().any(|l| l == id))
                });
                let points: Vec<String> = points.map(|f| f.to_string()).collect();
                if !points.is_empty() {
                    children.push((record.clone(), points));
                }
            }
        }
        for (mut child, fields) in children {
            for field in fields {
                child.fields.insert(field, Value::String(to.to_string()));
            }
            touch(&mut child, actor, now);
            self.put(child);
        }
    }

    /// Brings a record back from the recycle bin.
    pub fn undelete(&mut self, id: &str, actor: &Actor, now: DateTime<Utc>) -> Result<(), SfError> {
        let now = self.stamp_time(now);
        let mut record = self.get(id).ok_or_else(SfError::not_found)?.clone();
        if !record.is_deleted() {
            let message = "undelete: record is not in the recycle bin";
            return Err(SfError::bad_request("UNDELETE_FAILED", message));
        }
        let object = self.object(&record.object).expect("known object");
        self.check_unique(&object, &record.fields, record.id())?;
        record.fields.insert("IsDeleted".into(), Value::Bool(false));
        record.deleted_at = None;
        touch(&mut record, actor, now);
        self.put(record);
        Ok(())
    }

    /// A system-driven change (a roll-up recalculation, say): only `SystemModstamp` moves.
    pub fn touch_system(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), SfError> {
        let now = self.stamp_time(now);
        let mut record = self.get(id).ok_or_else(SfError::not_found)?.clone();
        record.fields.insert("SystemModstamp".into(), Value::String(format_datetime(now)));
        self.put(record);
        Ok(())
    }

    /// Empties the recycle bin of records deleted longer than `retention` ago; returns how
    /// many were purged.
    pub fn purge(&mut self, now: DateTime<Utc>, retention: Duration) -> usize {
        let cutoff = now - retention;
        let mut purged = 0;
        let mut earliest: Option<DateTime<Utc>> = None;
        for table in self.tables.values_mut() {
            let before = table.records.len();
            table.records.retain(|_, r| r.deleted_at.is_none_or(|at| at >= cutoff));
            purged += before - table.records.len();
            let bin = table.records.values().filter_map(|r| r.deleted_at);
            earliest = bin.chain(earliest).min();
        }
        self.earliest_deleted = earliest;
        purged
    }

    /// [`Store::purge`], only when some record in the recycle bin is due: cheap enough to
    /// run before every use of the store, so no read ever sees a record past retention.
    pub fn purge_due(&mut self, now: DateTime<Utc>, retention: Duration) -> usize {
        match self.earliest_deleted {
            Some(at) if at < now - retention => self.purge(now, retention),
            _ => 0,
        }
    }
}

//! Creating, updating, upserting and deleting records, with Salesforce's checks: known and
//! writable fields, types, required fields, unique values and valid references.

use axum::http::StatusCode;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};

use super::{Record, Store};
use crate::config::{DatetimePrecision, DeletedStatus, UnknownIdOnWrite};
use crate::error::SfError;
use crate::schema::{ECHO_FIELD, FieldDef, FieldType, ObjectDef, PERSON_OBJECTS};
use crate::value::{self, index_key};

/// Who writes: the user the change is attributed to and the `client=` of
/// `Sforce-Call-Options`, if any. `system` may set read-only and audit fields (seeding).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub client: Option<String>,
    pub system: bool,
}

/// The result of an upsert by external id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    Created(String),
    Updated(String),
    /// Several records hold the value: nothing was written.
    Ambiguous(Vec<String>),
}

enum Mode {
    Create,
    Update,
}

impl Store {
    /// Inserts a record of `object` and returns its id.
    pub fn create(
        &mut self,
        object: &ObjectDef,
        input: &Map<String, Value>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<String, SfError> {
        let now = self.stamp_time(now);
        let mut fields = self.checked_fields(object, input, actor, Mode::Create)?;
        fill_defaults(object, &mut fields, actor);
        check_required(object, &fields)?;
        self.check_rules(&object.name, &fields)?;
        let id = self.next_id(&object.key_prefix);
        self.check_unique(object, &fields, &id)?;
        fields.insert("Id".into(), Value::String(id.clone()));
        fields.insert("IsDeleted".into(), Value::Bool(false));
        let stamp = stamp_of(now);
        for (name, value) in
            [("CreatedDate", stamp.clone()), ("CreatedById", actor.user_id.clone())]
        {
            fields.entry(name).or_insert(Value::String(value));
        }
        if object.name == "Case" {
            fields.insert(
                "CaseNumber".into(),
                Value::String(format!("{:08}", 1000 + self.next_sequence)),
            );
        }
        let mut record = Record { object: object.name.clone(), fields, deleted_at: None };
        touch(&mut record, actor, now);
        if actor.system {
            check_audit_order(&record)?;
        }
        self.put(record);
        Ok(id)
    }

    /// Changes the given fields of a live record of `object`.
    pub fn update(
        &mut self,
        object: &ObjectDef,
        id: &str,
        input: &Map<String, Value>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), SfError> {
        let now = self.stamp_time(now);
        let current = self.live_for_write(object, id)?.clone();
        let changes = self.checked_fields(object, input, actor, Mode::Update)?;
        let mut record = current;
        for (name, value) in changes {
            record.fields.insert(name, value);
        }
        check_required(object, &record.fields)?;
        self.check_rules(&object.name, &record.fields)?;
        self.check_unique(object, &record.fields, record.id())?;
        touch(&mut record, actor, now);
        self.put(record);
        Ok(())
    }

    /// Updates the one live record whose external id `field` holds `key`, or creates one.
    pub fn upsert(
        &mut self,
        object: &ObjectDef,
        field: &FieldDef,
        key: &Value,
        input: &Map<String, Value>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Upserted, SfError> {
        let key = value::normalize(field, key)?;
        let matches: Vec<String> = self
            .find_indexed(&object.name, &field.name, &key)
            .iter()
            .map(|r| r.id().into())
            .collect();
        match matches.as_slice() {
            [] => {
                let mut with_key = input.clone();
                with_key.insert(field.name.clone(), key);
                self.create(object, &with_key, actor, now).map(Upserted::Created)
            }
            [id] => {
                let mut without_key = input.clone();
                without_key.retain(|k, _| !k.eq_ignore_ascii_case(&field.name));
                self.update(object, id, &without_key, actor, now)?;
                Ok(Upserted::Updated(id.clone()))
            }
            _ => Ok(Upserted::Ambiguous(matches)),
        }
    }

    /// Moves a live record to the recycle bin.
    pub fn delete(
        &mut self,
        object: Option<&ObjectDef>,
        id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), SfError> {
        let now = self.stamp_time(now);
        let found = self.get(id).filter(|r| object.is_none_or(|o| o.name == r.object));
        let mut record = found.ok_or_else(|| self.unknown_on_write())?.clone();
        if record.is_deleted() {
            return Err(self.entity_is_deleted());
        }
        record.fields.insert("IsDeleted".into(), Value::Bool(true));
        record.deleted_at = Some(now);
        touch(&mut record, actor, now);
        self.put(record);
        Ok(())
    }

    /// The live record `id` of `object`, or the error a read of it gets.
    pub fn live(&self, object: &ObjectDef, id: &str) -> Result<&Record, SfError> {
        let record = self.get(id).filter(|r| r.object == object.name);
        let record = record.ok_or_else(SfError::not_found)?;
        if record.is_deleted() {
            return Err(self.entity_is_deleted());
        }
        Ok(record)
    }

    /// The live record `id` of `object`, or the error a PATCH or DELETE of it gets.
    pub fn live_for_write(&self, object: &ObjectDef, id: &str) -> Result<&Record, SfError> {
        match self.get(id).filter(|r| r.object == object.name) {
            None => Err(self.unknown_on_write()),
            Some(record) if record.is_deleted() => Err(self.entity_is_deleted()),
            Some(record) => Ok(record),
        }
    }

    /// `ENTITY_IS_DELETED` with the configured status.
    pub fn entity_is_deleted(&self) -> SfError {
        let status = match self.behaviour.deleted_status {
            DeletedStatus::BadRequest => StatusCode::BAD_REQUEST,
            DeletedStatus::NotFound => StatusCode::NOT_FOUND,
        };
        SfError::new(status, "ENTITY_IS_DELETED", "entity is deleted")
    }

    /// The configured answer to a write of a well-formed Id no record has.
    fn unknown_on_write(&self) -> SfError {
        match self.behaviour.unknown_id_on_write {
            UnknownIdOnWrite::NotFound => SfError::not_found(),
            UnknownIdOnWrite::InvalidCrossReferenceKey => {
                SfError::bad_request("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            }
        }
    }

    /// `now` at the configured precision: the instant a write stamps on its record.
    pub(super) fn stamp_time(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.behaviour.precision {
            DatetimePrecision::Seconds => now.trunc_subsecs(0),
            DatetimePrecision::Milliseconds => now,
        }
    }

    fn checked_fields(
        &self,
        object: &ObjectDef,
        input: &Map<String, Value>,
        actor: &Actor,
        mode: Mode,
    ) -> Result<Map<String, Value>, SfError> {
        let mut fields = Map::new();
        for (name, raw) in input {
            if name == "attributes" {
                continue;
            }
            let field = object.field(name).ok_or_else(|| no_such_field(object, name))?;
            let writable = match mode {
                Mode::Create => field.createable,
                Mode::Update => field.updateable,
            };
            if !writable && !actor.system {
                return Err(not_writable(field, &mode));
            }
            let normalized = value::normalize(field, raw)?;
            if field.kind == FieldType::Reference && !normalized.is_null() {
                self.check_reference(field, &normalized)?;
            }
            fields.insert(field.name.clone(), normalized);
        }
        Ok(fields)
    }

    fn check_reference(&self, field: &FieldDef, id: &Value) -> Result<(), SfError> {
        let id = id.as_str().unwrap_or_default();
        let target = self.get(id).filter(|r| !r.is_deleted());
        let fits = target.is_some_and(|r| {
            field.reference_to.is_empty() || field.reference_to.contains(&r.object)
        });
        if fits {
            return Ok(());
        }
        let message = format!("{}: id value of incorrect type: {id}", field.label);
        Err(SfError::bad_request("INVALID_CROSS_REFERENCE_KEY", message)
            .with_fields(&[&field.name]))
    }

    pub(super) fn check_unique(
        &self,
        object: &ObjectDef,
        fields: &Map<String, Value>,
        own_id: &str,
    ) -> Result<(), SfError> {
        for field in object.fields.iter().filter(|f| f.unique) {
            let value = fields.get(&field.name).unwrap_or(&Value::Null);
            if index_key(value).is_none() {
                continue;
            }
            let holders = self.find_indexed(&object.name, &field.name, value);
            if let Some(other) = holders.iter().find(|r| r.id() != own_id) {
                let message = format!(
                    "duplicate value found: {} duplicates value on record with id: {}",
                    field.name,
                    other.id()
                );
                return Err(SfError::bad_request("DUPLICATE_VALUE", message));
            }
        }
        Ok(())
    }
}

fn no_such_field(object: &ObjectDef, name: &str) -> SfError {
    let message = format!("No such column '{name}' on sobject of type {}", object.name);
    SfError::bad_request("INVALID_FIELD", message).with_fields(&[name])
}

fn not_writable(field: &FieldDef, mode: &Mode) -> SfError {
    let verb = match mode {
        Mode::Create => "create",
        Mode::Update => "update",
    };
    let message = format!(
        "Unable to {verb} fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
        field.name
    );
    SfError::bad_request("INVALID_FIELD_FOR_INSERT_UPDATE", message).with_fields(&[&field.name])
}

fn fill_defaults(object: &ObjectDef, fields: &mut Map<String, Value>, actor: &Actor) {
    let defaulted =
        |f: &&FieldDef| f.defaulted_on_create && (f.createable || f.kind == FieldType::Boolean);
    for field in object.fields.iter().filter(defaulted) {
        let default = match field.kind {
            FieldType::Boolean => Value::Bool(false),
            FieldType::Picklist => {
                field.default_picklist_value().map_or(Value::Null, |v| Value::String(v.into()))
            }
            FieldType::Reference if field.name == "OwnerId" => Value::String(actor.user_id.clone()),
            _ => Value::Null,
        };
        let slot = fields.entry(field.name.clone()).or_insert(Value::Null);
        if slot.is_null() {
            *slot = default;
        }
    }
}

fn check_required(object: &ObjectDef, fields: &Map<String, Value>) -> Result<(), SfError> {
    let missing: Vec<&str> = object
        .fields
        .iter()
        .filter(|f| f.is_required_on_create())
        .filter(|f| fields.get(&f.name).is_none_or(Value::is_null))
        .map(|f| f.name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let message = format!("Required fields are missing: [{}]", missing.join(", "));
    Err(SfError::bad_request("REQUIRED_FIELD_MISSING", message).with_fields(&missing))
}

/// Salesforce keeps `CreatedDate <= LastModifiedDate <= SystemModstamp`; a seeded record
/// whose audit fields break that order is refused, naming the two fields.
fn check_audit_order(record: &Record) -> Result<(), SfError> {
    let at = |name: &str| record.get(name).as_str().and_then(value::parse_datetime);
    for (earlier, later) in
        [("CreatedDate", "LastModifiedDate"), ("LastModifiedDate", "SystemModstamp")]
    {
        let (Some(first), Some(second)) = (at(earlier), at(later)) else { continue };
        if first > second {
            let message = format!(
                "{earlier} {} is after {later} {}: Salesforce keeps CreatedDate <= LastModifiedDate <= SystemModstamp (an audit field the seed leaves out is stamped with the simulator's clock)",
                value::format_datetime(first),
                value::format_datetime(second),
            );
            return Err(SfError::bad_request("FIELD_INTEGRITY_EXCEPTION", message)
                .with_fields(&[earlier, later]));
        }
    }
    Ok(())
}

fn stamp_of(now: DateTime<Utc>) -> String {
    value::format_datetime(now)
}

/// Sets the last-modified audit fields and the echo marker, as every write does. A system
/// actor's explicit audit fields (seeding with "Set Audit Fields") are kept.
pub(super) fn touch(record: &mut Record, actor: &Actor, now: DateTime<Utc>) {
    let stamp = Value::String(stamp_of(now));
    let keep = |record: &Record, name: &str| actor.system && !record.get(name).is_null();
    if !keep(record, "LastModifiedDate") {
        record.fields.insert("LastModifiedDate".into(), stamp.clone());
    }
    if !keep(record, "LastModifiedById") {
        record.fields.insert("LastModifiedById".into(), Value::String(actor.user_id.clone()));
    }
    if !keep(record, "SystemModstamp") {
        record.fields.insert("SystemModstamp".into(), stamp);
    }
    let client = actor.client.clone().map_or(Value::Null, Value::String);
    record.fields.insert(ECHO_FIELD.into(), client);
    if PERSON_OBJECTS.contains(&record.object.as_str()) {
        let name = full_name(record);
        record.fields.insert("Name".into(), Value::String(name));
    }
}

/// `FirstName LastName`, as Salesforce composes a person's `Name`.
fn full_name(record: &Record) -> String {
    let parts = ["FirstName", "LastName"].map(|field| record.get(field).as_str().unwrap_or(""));
    parts.iter().filter(|part| !part.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

//! The simulated org's schema: objects, their fields and field types, looked up by
//! case-insensitive API name.

mod custom;
pub mod describe;
mod standard;

use std::collections::HashMap;
use std::sync::Arc;

use super::config::OpportunityRequired;

pub use custom::{CustomField, CustomObject};
pub use standard::PERSON_OBJECTS;

/// The queryable field that records the `client=` value of `Sforce-Call-Options` on the
/// last write, so a poller can tell hubsync's own writes (its echoes) from anyone else's.
pub const ECHO_FIELD: &str = "LastModifiedByClient";

/// A field's data type, named as describe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Id,
    String,
    Textarea,
    Email,
    Phone,
    Url,
    Picklist,
    Multipicklist,
    Boolean,
    Int,
    Double,
    Currency,
    Percent,
    Date,
    Datetime,
    Reference,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::Multipicklist => "multipicklist",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Reference => "reference",
        }
    }

    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Date => "xsd:date",
            FieldType::Datetime => "xsd:dateTime",
            _ => "xsd:string",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
        )
    }

    /// Types whose values are strings on the wire and compare as strings.
    pub fn is_textual(self) -> bool {
        !self.is_numeric() && !matches!(self, FieldType::Boolean)
    }
}

/// One field of an object.
#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub kind: FieldType,
    pub length: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    pub external_id: bool,
    pub unique: bool,
    pub custom: bool,
    pub picklist: Vec<String>,
    /// The picklist value a record gets when none is given (defaulted fields only); without
    /// one, the first value.
    pub picklist_default: Option<String>,
    pub restricted: bool,
    pub reference_to: Vec<String>,
}

impl FieldDef {
    /// A writable, nillable field of this type.
    pub fn new(name: &str, kind: FieldType) -> Self {
        let length = match kind {
            FieldType::Textarea => 32_000,
            FieldType::Id | FieldType::Reference => 18,
            k if k.is_textual() => 255,
            _ => 0,
        };
        FieldDef {
            name: name.to_string(),
            label: label_of(name),
            kind,
            length,
            nillable: kind != FieldType::Boolean,
            createable: true,
            updateable: true,
            defaulted_on_create: kind == FieldType::Boolean,
            external_id: false,
            unique: false,
            custom: name.ends_with("__c"),
            picklist: Vec::new(),
            picklist_default: None,
            restricted: false,
            reference_to: Vec::new(),
        }
    }

    /// Must be given on create: createable, not nillable, and not defaulted.
    pub fn required(mut self) -> Self {
        self.nillable = false;
        self
    }

    /// Set by the system only.
    pub fn system(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self.defaulted_on_create = true;
        self
    }

    pub fn defaulted(mut self) -> Self {
        self.defaulted_on_create = true;
        self
    }

    pub fn references(mut self, objects: &[&str]) -> Self {
        self.reference_to = objects.iter().map(|o| o.to_string()).collect();
        self
    }

    pub fn picklist(mut self, values: &[&str], restricted: bool) -> Self {
        self.picklist = values.iter().map(|v| v.to_string()).collect();
        self.restricted = restricted;
        self
    }

    /// Defaulted on create to `value`, one of its picklist values.
    pub fn defaults_to(mut self, value: &str) -> Self {
        self.defaulted_on_create = true;
        self.picklist_default = Some(value.to_string());
        self
    }

    /// The value a defaulted picklist takes on create.
    pub fn default_picklist_value(&self) -> Option<&str> {
        if !self.defaulted_on_create {
            return None;
        }
        self.picklist_default.as_deref().or(self.picklist.first().map(String::as_str))
    }

    pub fn is_required_on_create(&self) -> bool {
        self.createable && !self.nillable && !self.defaulted_on_create
    }

    /// Whether SOQL may `ORDER BY` it: not long text (`textarea`) or multi-select picklists,
    /// which Salesforce refuses with "field 'X' can not be sorted in a query call".
    pub fn sortable(&self) -> bool {
        !matches!(self.kind, FieldType::Textarea | FieldType::Multipicklist)
    }

    /// Whether SOQL may filter on it in `WHERE`: not long text.
    pub fn filterable(&self) -> bool {
        self.kind != FieldType::Textarea
    }
}

fn label_of(name: &str) -> String {
    name.trim_end_matches("__c").trim_end_matches("Id").replace('_', " ")
}

/// One object type and its fields, in describe order.
#[derive(Debug)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub key_prefix: String,
    pub custom: bool,
    pub mergeable: bool,
    pub fields: Vec<FieldDef>,
    by_lower: HashMap<String, usize>,
}

impl ObjectDef {
    pub fn new(name: &str, key_prefix: &str, fields: Vec<FieldDef>) -> Self {
        let by_lower =
            fields.iter().enumerate().map(|(i, f)| (f.name.to_ascii_lowercase(), i)).collect();
        ObjectDef {
            name: name.to_string(),
            label: label_of(name),
            key_prefix: key_prefix.to_string(),
            custom: name.ends_with("__c"),
            mergeable: false,
            fields,
            by_lower,
        }
    }

    /// The field with this name, in any letter case.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.by_lower.get(&name.to_ascii_lowercase()).map(|&i| &self.fields[i])
    }

    pub fn add_field(&mut self, field: FieldDef) {
        self.by_lower.insert(field.name.to_ascii_lowercase(), self.fields.len());
        self.fields.push(field);
    }

    /// Fields whose values are indexed for lookups: external ids and unique fields.
    pub fn indexed_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.external_id || f.unique)
    }
}

/// Every object of the org, by case-insensitive name and by key prefix.
#[derive(Debug, Default)]
pub struct Schema {
    objects: Vec<Arc<ObjectDef>>,
    by_lower: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
}

impl Schema {
    /// The standard objects (Opportunity requiring the fields `opportunity` says) plus the
    /// custom objects and fields of a seed.
    pub fn build(
        custom_objects: &[CustomObject],
        custom_fields: &HashMap<String, Vec<CustomField>>,
        opportunity: OpportunityRequired,
    ) -> Result<Self, String> {
        let mut objects = standard::objects(opportunity);
        for (i, object) in custom_objects.iter().enumerate() {
            objects.push(object.to_def(i)?);
        }
        for (object, fields) in custom_fields {
            let lower = object.to_ascii_lowercase();
            let Some(def) = objects.iter_mut().find(|o| o.name.to_ascii_lowercase() == lower)
            else {
                return Err(format!("custom fields for unknown object {object}"));
            };
            for field in fields {
                def.add_field(field.to_def()?);
            }
        }
        Ok(Self::from_defs(objects))
    }

    fn from_defs(objects: Vec<ObjectDef>) -> Self {
        let mut schema = Schema::default();
        for (i, object) in objects.into_iter().enumerate() {
            schema.by_lower.insert(object.name.to_ascii_lowercase(), i);
            schema.by_prefix.insert(object.key_prefix.clone(), i);
            schema.objects.push(Arc::new(object));
        }
        schema
    }

    /// The object with this name, in any letter case.
    pub fn object(&self, name: &str) -> Option<&Arc<ObjectDef>> {
        self.by_lower.get(&name.to_ascii_lowercase()).map(|&i| &self.objects[i])
    }

    /// The object whose ids start with this key prefix.
    pub fn object_by_prefix(&self, prefix: &str) -> Option<&Arc<ObjectDef>> {
        self.by_prefix.get(prefix).map(|&i| &self.objects[i])
    }

    pub fn objects(&self) -> &[Arc<ObjectDef>] {
        &self.objects
    }
}

/// The system fields of an object that cannot merge.
fn standard_system_fields() -> Vec<FieldDef> {
    standard::system_fields(false)
}

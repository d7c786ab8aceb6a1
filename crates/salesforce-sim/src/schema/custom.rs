//! Custom objects (`Foo__c`) and custom fields declared in a seed file.

use serde::{Deserialize, Serialize};

use super::{FieldDef, FieldType, ObjectDef};

/// A custom field in a seed file, e.g.
/// `{"name": "HubSpot_Id__c", "type": "string", "externalId": true, "unique": true}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomField {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub unique: bool,
    /// Picklist values; with `restricted`, other values are refused.
    #[serde(default)]
    pub picklist_values: Vec<String>,
    #[serde(default)]
    pub restricted: bool,
    /// For `reference` fields: the object types it may point to.
    #[serde(default)]
    pub reference_to: Vec<String>,
    /// Set on create only: createable but not updateable, like Salesforce's create-only
    /// fields; an update that sets it is refused.
    #[serde(default)]
    pub create_only: bool,
}

impl CustomField {
    pub fn to_def(&self) -> Result<FieldDef, String> {
        if !self.name.ends_with("__c") {
            return Err(format!("custom field {} must end in __c", self.name));
        }
        let mut def = FieldDef::new(&self.name, self.kind);
        if let Some(label) = &self.label {
            def.label = label.clone();
        }
        if let Some(length) = self.length {
            def.length = length;
        }
        def.nillable = !self.required && self.kind != FieldType::Boolean;
        def.external_id = self.external_id;
        def.unique = self.unique;
        def.picklist = self.picklist_values.clone();
        def.restricted = self.restricted;
        def.reference_to = self.reference_to.clone();
        def.updateable = !self.create_only;
        Ok(def)
    }
}

/// A custom object in a seed file: `{"name": "Foo__c", "fields": [...]}`. It gets the
/// system fields, `Name` and `OwnerId`, and the key prefix `a00`, `a01`, … in seed order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomObject {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub fields: Vec<CustomField>,
}

impl CustomObject {
    pub fn to_def(&self, index: usize) -> Result<ObjectDef, String> {
        if !self.name.ends_with("__c") {
            return Err(format!("custom object {} must end in __c", self.name));
        }
        let prefix = format!("a{index:02}");
        let own = vec![
            FieldDef::new("Name", FieldType::String).defaulted(),
            FieldDef::new("OwnerId", FieldType::Reference)
                .references(&["User"])
                .required()
                .defaulted(),
        ];
        let mut def = ObjectDef::new(&self.name, &prefix, Vec::new());
        for field in super::standard_system_fields().into_iter().chain(own) {
            def.add_field(field);
        }
        for field in &self.fields {
            def.add_field(field.to_def()?);
        }
        if let Some(label) = &self.label {
            def.label = label.clone();
        }
        Ok(def)
    }
}

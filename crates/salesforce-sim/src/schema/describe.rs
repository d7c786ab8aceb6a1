//! Describe results as Salesforce renders them: global describe, object describe, fields.

use serde_json::{Value, json};

use super::{FieldDef, FieldType, ObjectDef, Schema};

fn object_urls(version: &str, name: &str) -> Value {
    let base = format!("/services/data/{version}/sobjects/{name}");
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

/// The summary of one object, as listed by global describe and basic info.
pub fn object_summary(object: &ObjectDef, version: &str) -> Value {
    json!({
        "name": object.name,
        "label": object.label,
        "labelPlural": format!("{}s", object.label),
        "keyPrefix": object.key_prefix,
        "custom": object.custom,
        "createable": true,
        "updateable": true,
        "deletable": true,
        "queryable": true,
        "retrieveable": true,
        "searchable": true,
        "replicateable": true,
        "mergeable": object.mergeable,
        "undeletable": true,
        "urls": object_urls(version, &object.name),
    })
}

/// `GET /sobjects/`.
pub fn global(schema: &Schema, version: &str) -> Value {
    let sobjects: Vec<Value> =
        schema.objects().iter().map(|o| object_summary(o, version)).collect();
    json!({ "encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects })
}

/// `GET /sobjects/{T}/describe`.
pub fn object(object: &ObjectDef, version: &str) -> Value {
    let mut described = object_summary(object, version);
    let fields: Vec<Value> = object.fields.iter().map(field).collect();
    described["fields"] = Value::Array(fields);
    described["childRelationships"] = json!([]);
    described["recordTypeInfos"] = json!([]);
    described
}

fn field(def: &FieldDef) -> Value {
    let (precision, scale, digits) = match def.kind {
        FieldType::Int => (0, 0, 9),
        FieldType::Double | FieldType::Currency | FieldType::Percent => (18, 2, 0),
        _ => (0, 0, 0),
    };
    let picklist: Vec<Value> = def
        .picklist
        .iter()
        .map(|v| {
            let default = def.default_picklist_value() == Some(v.as_str());
            json!({"active": true, "defaultValue": default, "label": v, "validFor": null, "value": v})
        })
        .collect();
    json!({
        "name": def.name,
        "label": def.label,
        "type": def.kind.name(),
        "soapType": def.kind.soap_type(),
        "length": def.length,
        "byteLength": def.length * 3,
        "precision": precision,
        "scale": scale,
        "digits": digits,
        "nillable": def.nillable,
        "createable": def.createable,
        "updateable": def.updateable,
        "defaultedOnCreate": def.defaulted_on_create,
        "calculated": false,
        "externalId": def.external_id,
        "idLookup": def.external_id || def.kind == FieldType::Id,
        "unique": def.unique,
        "caseSensitive": false,
        "custom": def.custom,
        "autoNumber": false,
        "nameField": def.name == "Name",
        "filterable": def.filterable(),
        "sortable": def.sortable(),
        "referenceTo": def.reference_to,
        "relationshipName": relationship_name(def),
        "restrictedPicklist": def.restricted,
        "dependentPicklist": false,
        "controllerName": null,
        "picklistValues": picklist,
    })
}

fn relationship_name(def: &FieldDef) -> Value {
    if def.kind != FieldType::Reference {
        return Value::Null;
    }
    match def.name.strip_suffix("__c") {
        Some(base) => Value::String(format!("{base}__r")),
        None => Value::String(def.name.trim_end_matches("Id").to_string()),
    }
}

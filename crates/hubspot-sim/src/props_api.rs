//! The Properties API: list, read, create (with `hasUniqueValue`, at most 10 per object),
//! update and archive properties, and their groups.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::SimState;
use super::error::{ApiError, ApiResult};
use super::properties::{PropertyDef, PropertyOption, iso_ms};
use super::routes::{Body, Params, ok};
use super::store::{ObjectTable, PropertyGroup};

const MAX_UNIQUE: usize = 10;

/// A property as the API shows it.
pub fn property_json(def: &PropertyDef) -> Value {
    let mut body = json!({
        "name": def.name, "label": def.label, "type": def.kind, "fieldType": def.field_type,
        "groupName": def.group_name, "description": def.description, "displayOrder": def.display_order,
        "options": def.options, "hasUniqueValue": def.has_unique_value, "hidden": def.hidden,
        "formField": !def.read_only_value, "calculated": false, "externalOptions": false,
        "hubspotDefined": def.hubspot_defined, "archived": def.archived,
        "modificationMetadata": {"archivable": !def.hubspot_defined, "readOnlyDefinition": def.hubspot_defined,
                                 "readOnlyOptions": false, "readOnlyValue": def.read_only_value},
        "dataSensitivity": "non_sensitive",
    });
    if !def.hubspot_defined {
        body["createdAt"] = json!(iso_ms(def.created_at));
        body["updatedAt"] = json!(iso_ms(def.updated_at));
    }
    body
}

fn group_json(group: &PropertyGroup) -> Value {
    json!({"name": group.name, "label": group.label, "displayOrder": group.display_order, "archived": group.archived})
}

fn missing_property(name: &str) -> ApiError {
    ApiError::not_found(format!("Property {name} does not exist"))
}

/// `GET /crm/v3/properties/{type}`.
pub async fn list(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let archived = params.flag("archived");
    state.read_store(|store| {
        let object = store.object_type(&segment)?;
        let results: Vec<Value> = store
            .table(&object.type_id)
            .properties
            .values()
            .filter(|d| d.archived == archived)
            .map(property_json)
            .collect();
        Ok(ok(json!({"results": results})))
    })
}

/// `GET /crm/v3/properties/{type}/{name}`.
pub async fn read(
    State(state): State<SimState>,
    Path((segment, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    state.read_store(|store| {
        let object = store.object_type(&segment)?;
        let def = store.table(&object.type_id).properties.get(&name).filter(|d| !d.archived);
        Ok(ok(property_json(def.ok_or_else(|| missing_property(&name))?)))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyCreate {
    name: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    field_type: String,
    group_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    options: Vec<PropertyOption>,
    display_order: Option<i64>,
    #[serde(default)]
    has_unique_value: bool,
    #[serde(default)]
    hidden: bool,
}

fn check_field_type(kind: &str, field_type: &str) -> ApiResult<()> {
    let allowed: &[&str] = match kind {
        "string" => &["text", "textarea", "html", "phonenumber", "file", "calculation_equation"],
        "number" => &["number", "calculation_equation"],
        "bool" => &["booleancheckbox", "calculation_equation"],
        "enumeration" => {
            &["select", "radio", "checkbox", "booleancheckbox", "calculation_equation"]
        }
        "date" | "datetime" => &["date"],
        "phone_number" => &["phonenumber"],
        other => return Err(ApiError::validation(format!("{other} is not a valid property type"))),
    };
    if allowed.contains(&field_type) {
        Ok(())
    } else {
        Err(ApiError::validation(format!("fieldType {field_type} is not valid for type {kind}")))
    }
}

/// Checks and builds a new property for a table. Shared with schemas and seeds.
pub fn new_property(
    table: &ObjectTable,
    input: PropertyCreate,
    now: i64,
) -> ApiResult<PropertyDef> {
    check_field_type(&input.kind, &input.field_type)?;
    if table.properties.contains_key(&input.name) {
        return Err(ApiError::conflict(format!(
            "A property named '{}' already exists.",
            input.name
        )));
    }
    let unique_count =
        table.properties.values().filter(|d| d.has_unique_value && !d.archived).count();
    if input.has_unique_value && unique_count >= MAX_UNIQUE {
        return Err(ApiError::validation(format!(
            "An object can have at most {MAX_UNIQUE} unique value properties"
        )));
    }
    let valid_name = input.name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && input.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name {
        return Err(ApiError::validation(format!(
            "Property name {} must be lowercase letters, digits and _",
            input.name
        )));
    }
    let mut def = PropertyDef::new(&input.name, &input.kind, &input.group_name);
    def.label = input.label;
    def.field_type = input.field_type;
    def.description = input.description;
    def.options = input.options;
    def.display_order = input.display_order.unwrap_or(-1);
    def.has_unique_value = input.has_unique_value;
    def.hidden = input.hidden;
    def.hubspot_defined = false;
    (def.created_at, def.updated_at) = (now, now);
    Ok(def)
}

/// Parses a `PropertyCreate` from JSON, for schemas and seeds.
pub fn parse_create(value: Value) -> ApiResult<PropertyCreate> {
    serde_json::from_value(value)
        .map_err(|err| ApiError::validation(format!("Invalid property: {err}")))
}

/// `POST /crm/v3/properties/{type}`: 201.
pub async fn create(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Body(input): Body<PropertyCreate>,
) -> ApiResult<Response> {
    let now = state.clock.now_millis();
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        if !store.table(&object.type_id).groups.contains_key(&input.group_name) {
            return Err(ApiError::validation(format!(
                "Property group {} does not exist",
                input.group_name
            )));
        }
        let def = new_property(store.table(&object.type_id), input, now)?;
        let body = property_json(&def);
        store.table_mut(&object.type_id).properties.insert(def.name.clone(), def);
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyUpdate {
    label: Option<String>,
    description: Option<String>,
    group_name: Option<String>,
    options: Option<Vec<PropertyOption>>,
    display_order: Option<i64>,
    hidden: Option<bool>,
    has_unique_value: Option<bool>,
}

fn apply_update(def: &mut PropertyDef, input: PropertyUpdate, now: i64) -> ApiResult<()> {
    if input.has_unique_value.is_some_and(|u| u != def.has_unique_value) {
        return Err(ApiError::validation(
            "hasUniqueValue cannot be changed after a property is created",
        ));
    }
    if let Some(label) = input.label {
        def.label = label;
    }
    if let Some(description) = input.description {
        def.description = description;
    }
    if let Some(group) = input.group_name {
        def.group_name = group;
    }
    if let Some(options) = input.options {
        def.options = options;
    }
    if let Some(order) = input.display_order {
        def.display_order = order;
    }
    if let Some(hidden) = input.hidden {
        def.hidden = hidden;
    }
    def.updated_at = now;
    Ok(())
}

/// `PATCH /crm/v3/properties/{type}/{name}`.
pub async fn update(
    State(state): State<SimState>,
    Path((segment, name)): Path<(String, String)>,
    Body(input): Body<PropertyUpdate>,
) -> ApiResult<Response> {
    let now = state.clock.now_millis();
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let def =
            store.table_mut(&object.type_id).properties.get_mut(&name).filter(|d| !d.archived);
        let def = def.ok_or_else(|| missing_property(&name))?;
        apply_update(def, input, now)?;
        Ok(ok(property_json(def)))
    })
}

/// `DELETE /crm/v3/properties/{type}/{name}`: 204; HubSpot's own properties cannot go.
pub async fn archive(
    State(state): State<SimState>,
    Path((segment, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let def = store.table_mut(&object.type_id).properties.get_mut(&name);
        let def = def.ok_or_else(|| missing_property(&name))?;
        if def.hubspot_defined {
            return Err(ApiError::validation(format!(
                "{name} is a HubSpot-defined property and cannot be archived"
            )));
        }
        def.archived = true;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

/// `GET …/groups`.
pub async fn list_groups(
    State(state): State<SimState>,
    Path(segment): Path<String>,
) -> ApiResult<Response> {
    state.read_store(|store| {
        let object = store.object_type(&segment)?;
        let groups: Vec<Value> = store
            .table(&object.type_id)
            .groups
            .values()
            .filter(|g| !g.archived)
            .map(group_json)
            .collect();
        Ok(ok(json!({"results": groups})))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInput {
    name: Option<String>,
    label: Option<String>,
    display_order: Option<i64>,
}

/// `POST …/groups`: 201.
pub async fn create_group(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Body(input): Body<GroupInput>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let name = input.name.ok_or_else(|| ApiError::validation("name is required"))?;
        let table = store.table_mut(&object.type_id);
        if table.groups.get(&name).is_some_and(|g| !g.archived) {
            return Err(ApiError::conflict(format!("A group named '{name}' already exists.")));
        }
        let label = input.label.unwrap_or_else(|| name.clone());
        let group = PropertyGroup {
            name: name.clone(),
            label,
            display_order: input.display_order.unwrap_or(-1),
            archived: false,
        };
        let body = group_json(&group);
        table.groups.insert(name, group);
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    })
}

fn missing_group(name: &str) -> ApiError {
    ApiError::not_found(format!("Property group {name} does not exist"))
}

/// `GET …/groups/{name}`.
pub async fn read_group(
    State(state): State<SimState>,
    Path((segment, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    state.read_store(|store| {
        let object = store.object_type(&segment)?;
        let group = store.table(&object.type_id).groups.get(&name).filter(|g| !g.archived);
        Ok(ok(group_json(group.ok_or_else(|| missing_group(&name))?)))
    })
}

/// `PATCH …/groups/{name}`.
pub async fn update_group(
    State(state): State<SimState>,
    Path((segment, name)): Path<(String, String)>,
    Body(input): Body<GroupInput>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let group = store.table_mut(&object.type_id).groups.get_mut(&name).filter(|g| !g.archived);
        let group = group.ok_or_else(|| missing_group(&name))?;
        if let Some(label) = input.label {
            group.label = label;
        }
        if let Some(order) = input.display_order {
            group.display_order = order;
        }
        Ok(ok(group_json(group)))
    })
}

/// `DELETE …/groups/{name}`: 204.
pub async fn archive_group(
    State(state): State<SimState>,
    Path((segment, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let group = store.table_mut(&object.type_id).groups.get_mut(&name);
        group.ok_or_else(|| missing_group(&name))?.archived = true;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

#[derive(Debug, Deserialize)]
pub struct NameInputs {
    inputs: Vec<NameRef>,
    #[serde(default)]
    archived: bool,
}

#[derive(Debug, Deserialize)]
pub struct NameRef {
    name: String,
}

/// `POST …/batch/read`: the named properties; unknown names are 207 errors.
pub async fn batch_read(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Body(body): Body<NameInputs>,
) -> ApiResult<Response> {
    let now = state.clock.now_millis();
    state.read_store(|store| {
        let object = store.object_type(&segment)?;
        let table = store.table(&object.type_id);
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for NameRef { name } in &body.inputs {
            match table.properties.get(name).filter(|d| d.archived == body.archived) {
                Some(def) => results.push(property_json(def)),
                None => errors.push(missing_property(name).batch_item(json!({"name": [name]}))),
            }
        }
        let (status, body) = super::batch::envelope(results, errors, now, StatusCode::OK);
        Ok((status, axum::Json(body)).into_response())
    })
}

#[derive(Debug, Deserialize)]
pub struct CreateInputs {
    inputs: Vec<Value>,
}

/// `POST …/batch/create`: 201, or 207 with an error per refused definition.
pub async fn batch_create(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Body(body): Body<CreateInputs>,
) -> ApiResult<Response> {
    let now = state.clock.now_millis();
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for raw in body.inputs {
            let name = raw["name"].clone();
            let made = parse_create(raw)
                .and_then(|input| new_property(store.table(&object.type_id), input, now));
            match made {
                Ok(def) => {
                    results.push(property_json(&def));
                    store.table_mut(&object.type_id).properties.insert(def.name.clone(), def);
                }
                Err(err) => errors.push(err.batch_item(json!({"name": [name]}))),
            }
        }
        let (status, body) = super::batch::envelope(results, errors, now, StatusCode::CREATED);
        Ok((status, axum::Json(body)).into_response())
    })
}

/// `POST …/batch/archive`: 204, even for names that are unknown or already archived.
pub async fn batch_archive(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Body(body): Body<NameInputs>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let table = store.table_mut(&object.type_id);
        for NameRef { name } in &body.inputs {
            if let Some(def) = table.properties.get_mut(name).filter(|d| !d.hubspot_defined) {
                def.archived = true;
            }
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

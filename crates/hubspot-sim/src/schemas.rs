//! The Schemas API for custom objects: `2-…` type ids, `p{portal}_{name}` qualified names,
//! their properties and association definitions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::SimState;
use super::error::{ApiError, ApiResult};
use super::properties::{PropertyDef, iso_ms};
use super::props_api::{new_property, parse_create, property_json};
use super::routes::{Body, ok};
use super::store::{ObjectTable, SchemaMeta, Store};
use super::types::ObjectType;

/// The body of `POST /crm/v3/schemas` (`ObjectSchemaEgg`).
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SchemaEgg {
    pub name: String,
    #[serde(default)]
    pub labels: Value,
    #[serde(default)]
    pub properties: Vec<Value>,
    #[serde(default)]
    pub required_properties: Vec<String>,
    #[serde(default)]
    pub associated_objects: Vec<String>,
    pub primary_display_property: Option<String>,
    #[serde(default)]
    pub secondary_display_properties: Vec<String>,
    #[serde(default)]
    pub searchable_properties: Vec<String>,
    pub description: Option<String>,
}

fn system_properties(group: &str) -> Vec<PropertyDef> {
    let mut defs = super::defaults::defaults_for("2-0", "hs_createdate", "hs_lastmodifieddate");
    for def in &mut defs {
        def.group_name = group.to_string();
    }
    defs
}

fn check_name(store: &Store, name: &str) -> ApiResult<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(ApiError::validation(format!(
            "Object name {name} must start with a letter and use letters, digits and _"
        )));
    }
    if store.types.all().any(|t| t.custom && t.name == name) {
        return Err(ApiError::conflict(format!("An object type named {name} already exists")));
    }
    Ok(())
}

fn build_table(egg: &SchemaEgg, now: i64) -> ApiResult<ObjectTable> {
    let group = format!("{}_information", egg.name);
    let mut table = ObjectTable::with_properties(system_properties(&group), &group);
    for raw in &egg.properties {
        let mut raw = raw.clone();
        if raw.get("groupName").is_none() {
            raw["groupName"] = json!(group);
        }
        let def = new_property(&table, parse_create(raw)?, now)?;
        table.properties.insert(def.name.clone(), def);
    }
    if let Some(missing) =
        egg.required_properties.iter().find(|p| !table.properties.contains_key(*p))
    {
        return Err(ApiError::validation(format!(
            "Required property {missing} is not among the properties"
        )));
    }
    Ok(table)
}

/// Creates a custom object type from a schema; returns its type id.
pub fn create_schema(store: &mut Store, egg: SchemaEgg, now: i64) -> ApiResult<String> {
    check_name(store, &egg.name)?;
    let number = store.next_schema_id;
    let type_id = format!("2-{number}");
    let table = build_table(&egg, now)?;
    let object = object_type(&type_id, store.portal_id, &egg);
    let targets = egg
        .associated_objects
        .iter()
        .map(|t| store.object_type(t))
        .collect::<ApiResult<Vec<_>>>()?;
    store.next_schema_id += 1;
    store.tables.insert(type_id.clone(), table);
    for target in targets {
        let name = Some(format!("{}_to_{}", egg.name, target.singular));
        store.associations.define(&type_id, &target.type_id, None, None, name, "USER_DEFINED");
    }
    store.types.add(object);
    store.schemas.insert(type_id.clone(), meta(number, egg, now));
    Ok(type_id)
}

fn object_type(type_id: &str, portal_id: u64, egg: &SchemaEgg) -> ObjectType {
    let required = egg.required_properties.clone();
    let mut object = ObjectType::custom(type_id.into(), egg.name.clone(), portal_id, required);
    let display = egg.primary_display_property.iter().chain(&egg.secondary_display_properties);
    object.default_properties = display.cloned().collect();
    object.query_properties = egg.searchable_properties.clone();
    object
}

fn meta(number: u64, egg: SchemaEgg, now: i64) -> SchemaMeta {
    SchemaMeta {
        id: number.to_string(),
        labels: egg.labels,
        primary_display_property: egg.primary_display_property,
        secondary_display_properties: egg.secondary_display_properties,
        searchable_properties: egg.searchable_properties,
        description: egg.description,
        created_at: now,
        updated_at: now,
        archived: false,
    }
}

fn schema_json(store: &Store, type_id: &str) -> Value {
    let object = store.types.get(type_id).expect("a schema has a type");
    let meta = &store.schemas[type_id];
    let properties: Vec<Value> =
        store.table(type_id).properties.values().map(property_json).collect();
    let associations: Vec<Value> = store
        .associations
        .defined_from(type_id)
        .map(|d| json!({"id": d.label.type_id.to_string(), "name": d.name, "fromObjectTypeId": d.from_type,
                        "toObjectTypeId": d.to_type, "createdAt": iso_ms(meta.created_at), "updatedAt": iso_ms(meta.updated_at)}))
        .collect();
    json!({
        "id": meta.id, "objectTypeId": object.type_id, "fullyQualifiedName": object.fully_qualified_name,
        "name": object.name, "labels": meta.labels, "properties": properties, "associations": associations,
        "requiredProperties": object.required, "searchableProperties": meta.searchable_properties,
        "primaryDisplayProperty": meta.primary_display_property,
        "secondaryDisplayProperties": meta.secondary_display_properties, "description": meta.description,
        "archived": meta.archived, "createdAt": iso_ms(meta.created_at), "updatedAt": iso_ms(meta.updated_at),
    })
}

fn custom_type(store: &Store, segment: &str) -> ApiResult<ObjectType> {
    store
        .types
        .resolve(segment)
        .filter(|t| t.custom)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("Unable to find object type {segment}")))
}

/// `GET /crm/v3/schemas`.
pub async fn list(State(state): State<SimState>) -> ApiResult<Response> {
    state.read_store(|store| {
        let results: Vec<Value> = store.schemas.keys().map(|id| schema_json(store, id)).collect();
        Ok(ok(json!({"results": results})))
    })
}

/// `POST /crm/v3/schemas`: 201.
pub async fn create(
    State(state): State<SimState>,
    Body(egg): Body<SchemaEgg>,
) -> ApiResult<Response> {
    let now = state.clock.now_millis();
    state.with_store(|store| {
        let type_id = create_schema(store, egg, now)?;
        Ok((StatusCode::CREATED, axum::Json(schema_json(store, &type_id))).into_response())
    })
}

/// `GET /crm/v3/schemas/{objectType}`.
pub async fn read(
    State(state): State<SimState>,
    Path(segment): Path<String>,
) -> ApiResult<Response> {
    state.read_store(|store| Ok(ok(schema_json(store, &custom_type(store, &segment)?.type_id))))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaPatch {
    labels: Option<Value>,
    required_properties: Option<Vec<String>>,
    searchable_properties: Option<Vec<String>>,
    primary_display_property: Option<String>,
    description: Option<String>,
}

/// `PATCH /crm/v3/schemas/{objectType}`.
pub async fn update(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Body(patch): Body<SchemaPatch>,
) -> ApiResult<Response> {
    let now = state.clock.now_millis();
    state.with_store(|store| {
        let mut object = custom_type(store, &segment)?;
        if let Some(required) = patch.required_properties {
            object.required = required;
        }
        if let Some(searchable) = &patch.searchable_properties {
            object.query_properties = searchable.clone();
        }
        let meta = store.schemas.get_mut(&object.type_id).expect("a custom type has a schema");
        meta.labels = patch.labels.unwrap_or(meta.labels.take());
        meta.searchable_properties =
            patch.searchable_properties.unwrap_or(std::mem::take(&mut meta.searchable_properties));
        meta.primary_display_property =
            patch.primary_display_property.or(meta.primary_display_property.take());
        meta.description = patch.description.or(meta.description.take());
        meta.updated_at = now;
        let type_id = object.type_id.clone();
        store.types.add(object);
        Ok(ok(schema_json(store, &type_id)))
    })
}

/// `DELETE /crm/v3/schemas/{objectType}`: 204, only once no live records remain.
pub async fn archive(
    State(state): State<SimState>,
    Path(segment): Path<String>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let object = custom_type(store, &segment)?;
        if store.table(&object.type_id).records.values().any(|r| !r.archived()) {
            return Err(ApiError::validation(format!(
                "Object type {} still has records; delete them first",
                object.name
            )));
        }
        store.types.remove(&object.type_id);
        store.tables.remove(&object.type_id);
        store.schemas.remove(&object.type_id);
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationDefinition {
    from_object_type_id: String,
    to_object_type_id: String,
    name: Option<String>,
}

/// `POST /crm/v3/schemas/{objectType}/associations`: 201 `AssociationDefinition`.
pub async fn create_association(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Body(input): Body<AssociationDefinition>,
) -> ApiResult<Response> {
    let now = state.clock.now_millis();
    state.with_store(|store| {
        custom_type(store, &segment)?;
        let from = store.object_type(&input.from_object_type_id)?;
        let to = store.object_type(&input.to_object_type_id)?;
        let label = store.associations.define(&from.type_id, &to.type_id, None, None, input.name.clone(), "USER_DEFINED");
        let body = json!({"id": label.type_id.to_string(), "name": input.name, "fromObjectTypeId": from.type_id,
                          "toObjectTypeId": to.type_id, "createdAt": iso_ms(now), "updatedAt": iso_ms(now)});
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    })
}

//! `POST /crm/v3/objects/{type}/search`: filter groups (OR of ANDs) with HubSpot's operators
//! and case rules, one sort, numeric `after`, the filter caps, the 10,000-result cap, and
//! only what the (lagging) search index has seen.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::SimState;
use super::error::{ApiError, ApiResult};
use super::properties::{PropertyDef, iso_ms, parse_datetime};
use super::routes::ok;
use super::search_index::SearchDoc;
use super::store::{ObjectTable, Store};
use super::types::ObjectType;

const MAX_BODY: usize = 3000;
const MAX_RESULTS: usize = 10_000;
const MAX_LIMIT: usize = 200;

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SearchRequest {
    query: Option<String>,
    #[serde(default)]
    filter_groups: Vec<FilterGroup>,
    #[serde(default)]
    sorts: Vec<Value>,
    #[serde(default)]
    properties: Vec<String>,
    limit: Option<usize>,
    after: Option<Value>,
}

#[derive(Debug, Deserialize, Default)]
struct FilterGroup {
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Filter {
    property_name: String,
    operator: String,
    value: Option<Value>,
    high_value: Option<Value>,
    values: Option<Vec<Value>>,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse(body: &[u8]) -> ApiResult<SearchRequest> {
    if body.len() > MAX_BODY {
        return Err(ApiError::validation(format!(
            "Search request body is over {MAX_BODY} characters"
        )));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SearchRequest::default());
    }
    serde_json::from_slice(body)
        .map_err(|err| ApiError::validation(format!("Invalid input JSON: {err}")))
}

fn check_caps(state: &SimState, request: &SearchRequest) -> ApiResult<()> {
    let caps = state.config.strict.search_caps;
    let groups = &request.filter_groups;
    let total: usize = groups.iter().map(|g| g.filters.len()).sum();
    if groups.len() > caps.groups {
        return Err(ApiError::validation(format!(
            "Too many filter groups: {} (at most {})",
            groups.len(),
            caps.groups
        )));
    }
    if let Some(group) = groups.iter().find(|g| g.filters.len() > caps.filters_per_group) {
        let n = group.filters.len();
        return Err(ApiError::validation(format!(
            "Too many filters in a group: {n} (at most {})",
            caps.filters_per_group
        )));
    }
    if total > caps.filters_total {
        return Err(ApiError::validation(format!(
            "Too many filters: {total} (at most {})",
            caps.filters_total
        )));
    }
    if request.sorts.len() > 1 {
        return Err(ApiError::validation("Only one sort is supported"));
    }
    Ok(())
}

fn paging(state: &SimState, request: &SearchRequest) -> ApiResult<(usize, usize)> {
    let mut limit = request.limit.unwrap_or(10);
    if limit > MAX_LIMIT {
        if state.config.strict.reject_oversized_limits {
            return Err(ApiError::validation(format!(
                "limit must be at most {MAX_LIMIT}, was {limit}"
            )));
        }
        limit = MAX_LIMIT;
    }
    let after = match &request.after {
        None => 0,
        Some(raw) => text(raw)
            .parse::<usize>()
            .map_err(|_| ApiError::validation("after must be formatted as an integer"))?,
    };
    if after + limit > MAX_RESULTS {
        return Err(ApiError::validation(format!(
            "Paging past {MAX_RESULTS} results is not allowed: after {after} + limit {limit}"
        )));
    }
    Ok((limit, after))
}

/// `POST …/search`.
pub async fn search(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    body: bytes::Bytes,
) -> ApiResult<Response> {
    let request = parse(&body)?;
    check_caps(&state, &request)?;
    let (limit, after) = paging(&state, &request)?;
    let now = state.clock.now_millis();
    state.with_store(|store| {
        store.search.catch_up(now);
        let object = store.object_type(&segment)?;
        run(store, &object, &request, limit, after)
    })
}

fn run(
    store: &Store,
    object: &ObjectType,
    request: &SearchRequest,
    limit: usize,
    after: usize,
) -> ApiResult<Response> {
    let table = store.table(&object.type_id);
    for filter in request.filter_groups.iter().flat_map(|g| &g.filters) {
        check_filter(store, table, filter)?;
    }
    let query = request.query.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty());
    let mut hits: Vec<&SearchDoc> = store
        .search
        .docs(&object.type_id)
        .map(|doc| doc.as_ref())
        .filter(|doc| query.as_deref().is_none_or(|q| matches_query(object, doc, q)))
        .filter(|doc| {
            request.filter_groups.is_empty()
                || request
                    .filter_groups
                    .iter()
                    .any(|g| g.filters.iter().all(|f| matches(store, object, table, doc, f)))
        })
        .collect();
    sort(table, &mut hits, request.sorts.first())?;
    let total = hits.len();
    let wanted = if request.properties.is_empty() {
        &object.default_properties
    } else {
        &request.properties
    };
    let results: Vec<Value> =
        hits.iter().skip(after).take(limit).map(|doc| doc_json(object, doc, wanted)).collect();
    let mut body = json!({"total": total, "results": results});
    if after + limit < total {
        let next = (after + limit).to_string();
        body["paging"] = json!({"next": {"after": next, "link": format!("?after={next}")}});
    }
    Ok(ok(body))
}

const OPERATORS: &[&str] = &[
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
];

fn check_filter(store: &Store, table: &ObjectTable, filter: &Filter) -> ApiResult<()> {
    if !OPERATORS.contains(&filter.operator.as_str()) {
        return Err(ApiError::validation(format!("Unknown filter operator {}", filter.operator)));
    }
    if let Some(target) = filter.property_name.strip_prefix("associations.") {
        return store.object_type(target).map(|_| ());
    }
    if !table.properties.contains_key(&filter.property_name) {
        return Err(ApiError::validation(format!(
            "Property \"{}\" does not exist",
            filter.property_name
        )));
    }
    let needs_values = matches!(filter.operator.as_str(), "IN" | "NOT_IN");
    if needs_values && filter.values.is_none() {
        return Err(ApiError::validation(format!("{} needs `values`", filter.operator)));
    }
    Ok(())
}

fn matches_query(object: &ObjectType, doc: &SearchDoc, query: &str) -> bool {
    let fields = object.query_properties.iter().chain(object.default_properties.iter());
    fields
        .filter_map(|name| doc.properties.get(name))
        .any(|value| value.to_lowercase().contains(query))
}

/// How values of a property compare.
enum Kind {
    Numeric,
    CaseSensitive,
    CaseInsensitive,
}

fn kind_of(def: &PropertyDef) -> Kind {
    match def.kind.as_str() {
        "number" | "date" | "datetime" => Kind::Numeric,
        "enumeration" => Kind::CaseSensitive,
        _ => Kind::CaseInsensitive,
    }
}

/// A filter value as a number: a number, epoch ms, or an ISO date/datetime.
fn filter_number(def: &PropertyDef, raw: &str) -> Option<f64> {
    raw.parse::<f64>().ok().or_else(|| match def.kind.as_str() {
        "date" => chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis() as f64),
        "datetime" => parse_datetime(raw).map(|t| t.timestamp_millis() as f64),
        _ => None,
    })
}

fn compare(def: &PropertyDef, stored: &str, raw: &str) -> Option<std::cmp::Ordering> {
    match kind_of(def) {
        Kind::Numeric => def.numeric(stored)?.partial_cmp(&filter_number(def, raw)?),
        Kind::CaseSensitive => Some(stored.cmp(raw)),
        Kind::CaseInsensitive => Some(stored.to_lowercase().cmp(&raw.to_lowercase())),
    }
}

fn in_list(def: &PropertyDef, stored: &str, values: &[Value]) -> bool {
    values.iter().map(text).any(|v| match kind_of(def) {
        Kind::Numeric => compare(def, stored, &v) == Some(std::cmp::Ordering::Equal),
        Kind::CaseSensitive => stored == v,
        // String IN/NOT_IN compare against the lowercased value: values must be lowercase.
        Kind::CaseInsensitive => stored.to_lowercase() == v,
    })
}

fn contains_token(stored: &str, raw: &str) -> bool {
    let stored = stored.to_lowercase();
    let wanted = raw.to_lowercase();
    if wanted.contains('*') {
        return crate::sim::faults::glob_match(&wanted, &stored)
            || stored
                .split(|c: char| c.is_whitespace() || c == ';')
                .any(|t| crate::sim::faults::glob_match(&wanted, t));
    }
    stored == wanted || stored.split(|c: char| !c.is_alphanumeric()).any(|token| token == wanted)
}

fn matches(
    store: &Store,
    object: &ObjectType,
    table: &ObjectTable,
    doc: &SearchDoc,
    filter: &Filter,
) -> bool {
    if let Some(target) = filter.property_name.strip_prefix("associations.") {
        return matches_association(store, object, doc.id, target, filter);
    }
    let def = &table.properties[&filter.property_name];
    let stored = doc.properties.get(&filter.property_name).map(String::as_str);
    let value = filter.value.as_ref().map(text).unwrap_or_default();
    use std::cmp::Ordering::*;
    match (filter.operator.as_str(), stored) {
        ("HAS_PROPERTY", s) => s.is_some(),
        ("NOT_HAS_PROPERTY", s) => s.is_none(),
        ("NEQ" | "NOT_IN" | "NOT_CONTAINS_TOKEN", None) => true,
        (_, None) => false,
        ("EQ", Some(s)) => compare(def, s, &value) == Some(Equal),
        ("NEQ", Some(s)) => compare(def, s, &value) != Some(Equal),
        ("LT", Some(s)) => compare(def, s, &value) == Some(Less),
        ("LTE", Some(s)) => matches!(compare(def, s, &value), Some(Less | Equal)),
        ("GT", Some(s)) => compare(def, s, &value) == Some(Greater),
        ("GTE", Some(s)) => matches!(compare(def, s, &value), Some(Greater | Equal)),
        ("BETWEEN", Some(s)) => {
            let high = filter.high_value.as_ref().map(text).unwrap_or_default();
            matches!(compare(def, s, &value), Some(Greater | Equal))
                && matches!(compare(def, s, &high), Some(Less | Equal))
        }
        ("IN", Some(s)) => in_list(def, s, filter.values.as_deref().unwrap_or_default()),
        ("NOT_IN", Some(s)) => !in_list(def, s, filter.values.as_deref().unwrap_or_default()),
        ("CONTAINS_TOKEN", Some(s)) => contains_token(s, &value),
        ("NOT_CONTAINS_TOKEN", Some(s)) => !contains_token(s, &value),
        _ => false,
    }
}

fn matches_association(
    store: &Store,
    object: &ObjectType,
    id: u64,
    target: &str,
    filter: &Filter,
) -> bool {
    let Some(target) = store.types.resolve(target) else { return false };
    let linked: Vec<String> = store
        .associations
        .of((&object.type_id, id), &target.type_id)
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    match filter.operator.as_str() {
        "EQ" => filter.value.as_ref().is_some_and(|v| linked.contains(&text(v))),
        "IN" => filter.values.iter().flatten().any(|v| linked.contains(&text(v))),
        "HAS_PROPERTY" => !linked.is_empty(),
        "NOT_HAS_PROPERTY" => linked.is_empty(),
        _ => false,
    }
}

fn sort_rule(sort: &Value) -> ApiResult<(String, bool)> {
    match sort {
        Value::String(s) => Ok(match s.strip_prefix('-') {
            Some(name) => (name.to_string(), true),
            None => (s.clone(), false),
        }),
        Value::Object(o) => {
            let name = o
                .get("propertyName")
                .map(text)
                .ok_or_else(|| ApiError::validation("a sort needs propertyName"))?;
            let descending = o.get("direction").map(text).is_some_and(|d| d == "DESCENDING");
            Ok((name, descending))
        }
        _ => Err(ApiError::validation("a sort is an object with propertyName and direction")),
    }
}

fn sort(table: &ObjectTable, hits: &mut [&SearchDoc], rule: Option<&Value>) -> ApiResult<()> {
    let Some(rule) = rule else { return Ok(()) };
    let (name, descending) = sort_rule(rule)?;
    let def = table
        .properties
        .get(&name)
        .ok_or_else(|| ApiError::validation(format!("Property \"{name}\" does not exist")))?;
    let numeric = matches!(kind_of(def), Kind::Numeric);
    hits.sort_by(|a, b| {
        let (va, vb) = (a.properties.get(&name), b.properties.get(&name));
        let order = if numeric {
            let num = |v: Option<&String>| v.and_then(|v| def.numeric(v)).unwrap_or(f64::MIN);
            num(va).total_cmp(&num(vb))
        } else {
            va.map(|v| v.to_lowercase()).cmp(&vb.map(|v| v.to_lowercase()))
        };
        let order = if descending { order.reverse() } else { order };
        order.then(a.id.cmp(&b.id))
    });
    Ok(())
}

fn doc_json(object: &ObjectType, doc: &SearchDoc, wanted: &[String]) -> Value {
    let mut properties = Map::new();
    for name in wanted.iter().map(String::as_str).chain(object.always_returned()) {
        properties
            .insert(name.to_string(), doc.properties.get(name).map_or(Value::Null, |v| json!(v)));
    }
    json!({
        "id": doc.id.to_string(),
        "properties": properties,
        "createdAt": iso_ms(doc.created_at),
        "updatedAt": iso_ms(doc.updated_at),
        "archived": false,
    })
}

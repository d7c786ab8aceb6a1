//! `POST /crm/v3/objects/{type}/search`: filter groups (OR of ANDs) with HubSpot's operators
//! and case rules, one sort, numeric `after`, the filter caps, the 10,000-result cap, and
//! only what the (lagging) search index has seen.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SimState;
use super::error::{ApiError, ApiResult};
use super::properties::{PropertyDef, iso_ms, parse_datetime};
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
    if state.config.strict.reject_string_sorts && request.sorts.iter().any(Value::is_string) {
        return Err(ApiError::validation(
            "a sort is an object with propertyName and direction, not a string",
        ));
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
    let groups: Vec<Vec<Compiled>> = request
        .filter_groups
        .iter()
        .map(|g| g.filters.iter().map(|f| Compiled::new(object, table, f)).collect())
        .collect();
    let hits: Vec<&SearchDoc> = store
        .search
        .docs(&object.type_id)
        .map(|doc| doc.as_ref())
        .filter(|doc| query.as_deref().is_none_or(|q| matches_query(object, doc, q)))
        .filter(|doc| {
            groups.is_empty()
                || groups.iter().any(|g| g.iter().all(|f| matches(store, object, doc, f)))
        })
        .collect();
    let total = hits.len();
    let hits = first_sorted(object, table, hits, request.sorts.first(), after + limit)?;
    let wanted = if request.properties.is_empty() {
        &object.default_properties
    } else {
        &request.properties
    };
    let results: Vec<Hit> = hits.iter().skip(after).map(|doc| hit(object, doc, wanted)).collect();
    let paging = (after + limit < total).then(|| {
        let next = (after + limit).to_string();
        json!({"next": {"after": next, "link": format!("?after={next}")}})
    });
    Ok(axum::Json(Page { total, results, paging }).into_response())
}

/// A page of search results, serialized straight from the index: a poll reads every record
/// through these pages, and building each as a `Value` tree first cost more than finding it.
#[derive(Serialize)]
struct Page<'a> {
    total: usize,
    results: Vec<Hit<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paging: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Hit<'a> {
    id: String,
    properties: BTreeMap<&'a str, Option<&'a str>>,
    created_at: String,
    updated_at: String,
    archived: bool,
}

fn check_filter(store: &Store, table: &ObjectTable, filter: &Filter) -> ApiResult<()> {
    if Op::parse(&filter.operator).is_none() {
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
#[derive(Clone, Copy, PartialEq, Eq)]
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

impl Compiled<'_> {
    /// A range or equality test on a number the document holds ready; None for the other
    /// operators, which read the stored text.
    fn range(&self, op: Op, number: Option<f64>) -> Option<bool> {
        let Some(number) = number else {
            return Some(matches!(op, Op::NotHasProperty | Op::Neq | Op::NotIn));
        };
        match op {
            Op::HasProperty => Some(true),
            Op::NotHasProperty => Some(false),
            _ => op.compared(|high| {
                let bound = if high { self.high_bound } else { self.bound };
                bound.and_then(|b| number.partial_cmp(&b))
            }),
        }
    }
}

/// A filter operator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Between,
    In,
    NotIn,
    HasProperty,
    NotHasProperty,
    ContainsToken,
    NotContainsToken,
}

impl Op {
    fn parse(text: &str) -> Option<Op> {
        Some(match text {
            "EQ" => Op::Eq,
            "NEQ" => Op::Neq,
            "LT" => Op::Lt,
            "LTE" => Op::Lte,
            "GT" => Op::Gt,
            "GTE" => Op::Gte,
            "BETWEEN" => Op::Between,
            "IN" => Op::In,
            "NOT_IN" => Op::NotIn,
            "HAS_PROPERTY" => Op::HasProperty,
            "NOT_HAS_PROPERTY" => Op::NotHasProperty,
            "CONTAINS_TOKEN" => Op::ContainsToken,
            "NOT_CONTAINS_TOKEN" => Op::NotContainsToken,
            _ => return None,
        })
    }

    /// The verdict of a comparison operator from `order(high)`, the stored value's order
    /// against the filter's value (or, with `high`, its high value); None for the others.
    fn compared(self, order: impl Fn(bool) -> Option<std::cmp::Ordering>) -> Option<bool> {
        use std::cmp::Ordering::*;
        Some(match self {
            Op::Eq => order(false) == Some(Equal),
            Op::Neq => order(false) != Some(Equal),
            Op::Lt => order(false) == Some(Less),
            Op::Lte => matches!(order(false), Some(Less | Equal)),
            Op::Gt => order(false) == Some(Greater),
            Op::Gte => matches!(order(false), Some(Greater | Equal)),
            Op::Between => {
                matches!(order(false), Some(Greater | Equal))
                    && matches!(order(true), Some(Less | Equal))
            }
            _ => return None,
        })
    }
}

/// A filter with its operator, property and bounds resolved once per search, not once per
/// record: a page of an incremental read compares every record of the object.
struct Compiled<'a> {
    filter: &'a Filter,
    op: Option<Op>,
    /// None for an `associations.*` filter.
    def: Option<&'a PropertyDef>,
    kind: Kind,
    datetime: bool,
    /// The filter is on the object's last-modified property, which each document holds
    /// ready as a number.
    modified: bool,
    value: String,
    high: String,
    /// `value` and `high` as numbers, for numeric properties.
    bound: Option<f64>,
    high_bound: Option<f64>,
}

impl<'a> Compiled<'a> {
    /// `filter` has passed [`check_filter`].
    fn new(object: &ObjectType, table: &'a ObjectTable, filter: &'a Filter) -> Self {
        let def = table.properties.get(&filter.property_name);
        let value = filter.value.as_ref().map(text).unwrap_or_default();
        let high = filter.high_value.as_ref().map(text).unwrap_or_default();
        let number = |raw: &str| def.and_then(|d| filter_number(d, raw));
        let (bound, high_bound) = (number(&value), number(&high));
        Compiled {
            filter,
            op: Op::parse(&filter.operator),
            def,
            kind: def.map_or(Kind::CaseInsensitive, kind_of),
            datetime: def.is_some_and(|d| d.kind == "datetime"),
            modified: filter.property_name == object.modified_property,
            value,
            high,
            bound,
            high_bound,
        }
    }

    fn compare(&self, stored: &str, high: bool) -> Option<std::cmp::Ordering> {
        let (raw, bound) =
            if high { (&self.high, self.high_bound) } else { (&self.value, self.bound) };
        match self.kind {
            Kind::Numeric => {
                let number = if self.datetime {
                    parse_datetime(stored).map(|t| t.timestamp_millis() as f64)
                } else {
                    stored.parse::<f64>().ok()
                };
                number?.partial_cmp(&bound?)
            }
            Kind::CaseSensitive => Some(stored.cmp(raw.as_str())),
            Kind::CaseInsensitive => Some(stored.to_lowercase().cmp(&raw.to_lowercase())),
        }
    }
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
        return sim_kit::faults::glob_match(&wanted, &stored)
            || stored
                .split(|c: char| c.is_whitespace() || c == ';')
                .any(|t| sim_kit::faults::glob_match(&wanted, t));
    }
    stored == wanted || stored.split(|c: char| !c.is_alphanumeric()).any(|token| token == wanted)
}

fn matches(store: &Store, object: &ObjectType, doc: &SearchDoc, compiled: &Compiled) -> bool {
    let filter = compiled.filter;
    if let Some(target) = filter.property_name.strip_prefix("associations.") {
        return matches_association(store, object, doc.id, target, filter);
    }
    let (Some(def), Some(op)) = (compiled.def, compiled.op) else { return false };
    if compiled.modified
        && compiled.kind == Kind::Numeric
        && let Some(verdict) = compiled.range(op, doc.modified_ms)
    {
        return verdict;
    }
    let stored = doc.properties.get(&filter.property_name).map(String::as_str);
    let Some(s) = stored else {
        return matches!(op, Op::NotHasProperty | Op::Neq | Op::NotIn | Op::NotContainsToken);
    };
    if let Some(verdict) = op.compared(|high| compiled.compare(s, high)) {
        return verdict;
    }
    match op {
        Op::HasProperty => true,
        Op::NotHasProperty => false,
        Op::In => in_list(def, s, filter.values.as_deref().unwrap_or_default()),
        Op::NotIn => !in_list(def, s, filter.values.as_deref().unwrap_or_default()),
        Op::ContainsToken => contains_token(s, &compiled.value),
        Op::NotContainsToken => !contains_token(s, &compiled.value),
        // the comparisons were answered above
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

/// The first `keep` hits in the order of `rule` (then by id): each hit's key is read once,
/// and only the kept hits are fully sorted, so a page costs linear time in the matches.
fn first_sorted<'d>(
    object: &ObjectType,
    table: &ObjectTable,
    hits: Vec<&'d SearchDoc>,
    rule: Option<&Value>,
    keep: usize,
) -> ApiResult<Vec<&'d SearchDoc>> {
    let Some(rule) = rule else { return Ok(hits.into_iter().take(keep).collect()) };
    let (name, descending) = sort_rule(rule)?;
    let def = table
        .properties
        .get(&name)
        .ok_or_else(|| ApiError::validation(format!("Property \"{name}\" does not exist")))?;
    let numeric = matches!(kind_of(def), Kind::Numeric);
    let modified = name == object.modified_property;
    let key = |doc: &SearchDoc| {
        if numeric && modified {
            return SortKey::Number(doc.modified_ms.unwrap_or(f64::MIN));
        }
        let value = doc.properties.get(&name);
        if numeric {
            SortKey::Number(value.and_then(|v| def.numeric(v)).unwrap_or(f64::MIN))
        } else {
            SortKey::Text(value.map(|v| v.to_lowercase()))
        }
    };
    let mut keyed: Vec<(SortKey, &SearchDoc)> = hits.into_iter().map(|d| (key(d), d)).collect();
    let order = |a: &(SortKey, &SearchDoc), b: &(SortKey, &SearchDoc)| {
        let order = a.0.cmp(&b.0);
        let order = if descending { order.reverse() } else { order };
        order.then(a.1.id.cmp(&b.1.id))
    };
    if keep == 0 {
        return Ok(Vec::new());
    }
    if keep < keyed.len() {
        keyed.select_nth_unstable_by(keep - 1, order);
        keyed.truncate(keep);
    }
    keyed.sort_by(order);
    Ok(keyed.into_iter().map(|(_, doc)| doc).collect())
}

/// A hit's value of the sort property.
enum SortKey {
    Number(f64),
    Text(Option<String>),
}

impl SortKey {
    fn cmp(&self, other: &SortKey) -> std::cmp::Ordering {
        match (self, other) {
            (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            _ => std::cmp::Ordering::Equal,
        }
    }
}

fn hit<'a>(object: &'a ObjectType, doc: &'a SearchDoc, wanted: &'a [String]) -> Hit<'a> {
    let names = wanted.iter().map(String::as_str).chain(object.always_returned());
    Hit {
        id: doc.id.to_string(),
        properties: names
            .map(|name| (name, doc.properties.get(name).map(String::as_str)))
            .collect(),
        created_at: iso_ms(doc.created_at),
        updated_at: iso_ms(doc.updated_at),
        archived: false,
    }
}

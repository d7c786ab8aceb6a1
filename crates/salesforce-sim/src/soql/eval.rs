//! Running a parsed query against the store: names checked against the schema, literals
//! checked against field types, then filter, sort, offset, limit and projection.

use std::cmp::Ordering;

use serde_json::Value;

use super::parser::{Cond, Literal, Op, Query};
use crate::error::SfError;
use crate::ids;
use crate::render;
use crate::schema::{FieldDef, FieldType, ObjectDef};
use crate::store::{Record, Store};
use crate::value::{format_datetime, parse_date, parse_datetime};

/// SOQL's largest OFFSET.
const MAX_OFFSET: usize = 2000;

enum Bound {
    And(Vec<Bound>),
    Or(Vec<Bound>),
    Not(Box<Bound>),
    Compare { field: String, kind: FieldType, op: Op, value: Value },
    In { field: String, kind: FieldType, values: Vec<Value>, negated: bool },
}

struct SortKey {
    field: String,
    kind: FieldType,
    descending: bool,
    nulls_first: bool,
}

/// How a query runs: `all_rows` includes the recycle bin (`queryAll`);
/// `descending_nulls_last` puts nulls last on `DESC` keys that do not say where.
pub struct RunOptions<'a> {
    pub all_rows: bool,
    pub descending_nulls_last: bool,
    pub version: &'a str,
}

/// Runs `query`.
pub fn run(store: &Store, query: &Query, options: &RunOptions) -> Result<Vec<Value>, SfError> {
    let RunOptions { all_rows, version, .. } = *options;
    let object = store.object(&query.object).ok_or_else(|| SfError::invalid_type(&query.object))?;
    let fields = select_list(&object, &query.fields)?;
    let filter = query.filter.as_ref().map(|c| bind(&object, c)).transpose()?;
    let order = sort_keys(&object, query, options.descending_nulls_last)?;
    let offset = query.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        let message = format!("Maximum SOQL offset allowed is {MAX_OFFSET}");
        return Err(SfError::bad_request("NUMBER_OUTSIDE_VALID_RANGE", message));
    }
    let mut rows: Vec<&Record> = store
        .table(&object.name)
        .records
        .values()
        .filter(|r| all_rows || !r.is_deleted())
        .filter(|r| filter.as_ref().is_none_or(|f| matches(f, r)))
        .collect();
    let limit = query.limit.unwrap_or(usize::MAX);
    // only the rows up to the page's end need their order: a LIMIT page of a large object
    // costs linear time, not a full sort
    // (ties fall back to id order, the table's own, so OFFSET pages never overlap)
    let by = |a: &&Record, b: &&Record| compare_rows(&order, a, b).then_with(|| a.id().cmp(b.id()));
    let keep = offset.saturating_add(limit);
    if keep < rows.len() && keep > 0 {
        rows.select_nth_unstable_by(keep - 1, by);
        rows.truncate(keep);
    }
    rows.sort_by(by);
    let rendered = rows.into_iter().skip(offset).take(limit);
    Ok(rendered.map(|r| render::record(&object, r, Some(&fields), version)).collect())
}

fn field<'a>(object: &'a ObjectDef, name: &str) -> Result<&'a FieldDef, SfError> {
    object.field(name).ok_or_else(|| SfError::invalid_field(&object.name, name))
}

fn select_list(object: &ObjectDef, names: &[String]) -> Result<Vec<String>, SfError> {
    let mut fields: Vec<String> = Vec::new();
    for name in names {
        let canonical = field(object, name)?.name.clone();
        if fields.contains(&canonical) {
            return Err(SfError::malformed_query(format!("duplicate field selected: {canonical}")));
        }
        fields.push(canonical);
    }
    Ok(fields)
}

/// The sort keys; nulls sort first unless the query says otherwise ("by default, null
/// values are sorted first", whatever the direction) or `descending_nulls_last` is on.
fn sort_keys(
    object: &ObjectDef,
    query: &Query,
    descending_nulls_last: bool,
) -> Result<Vec<SortKey>, SfError> {
    let mut keys = Vec::new();
    for key in &query.order {
        let def = field(object, &key.field)?;
        if !def.sortable() {
            let message = format!("field '{}' can not be sorted in a query call", def.name);
            return Err(SfError::bad_request("INVALID_FIELD", message));
        }
        keys.push(SortKey {
            field: def.name.clone(),
            kind: def.kind,
            descending: key.descending,
            nulls_first: key.nulls_first.unwrap_or(!(key.descending && descending_nulls_last)),
        });
    }
    Ok(keys)
}

fn bind(object: &ObjectDef, cond: &Cond) -> Result<Bound, SfError> {
    let all = |parts: &[Cond]| parts.iter().map(|c| bind(object, c)).collect::<Result<Vec<_>, _>>();
    Ok(match cond {
        Cond::And(parts) => Bound::And(all(parts)?),
        Cond::Or(parts) => Bound::Or(all(parts)?),
        Cond::Not(inner) => Bound::Not(Box::new(bind(object, inner)?)),
        Cond::Compare { field: name, op, value } => {
            let def = filterable(object, name)?;
            let value = bind_literal(def, *op, value)?;
            Bound::Compare { field: def.name.clone(), kind: def.kind, op: *op, value }
        }
        Cond::In { field: name, values, negated } => {
            let def = filterable(object, name)?;
            let values =
                values.iter().map(|v| bind_literal(def, Op::Eq, v)).collect::<Result<_, _>>()?;
            Bound::In { field: def.name.clone(), kind: def.kind, values, negated: *negated }
        }
    })
}

fn filterable<'a>(object: &'a ObjectDef, name: &str) -> Result<&'a FieldDef, SfError> {
    let def = field(object, name)?;
    if !def.filterable() {
        let message = format!("field '{}' can not be filtered in query call", def.name);
        return Err(SfError::bad_request("INVALID_FIELD", message));
    }
    Ok(def)
}

fn bind_literal(def: &FieldDef, op: Op, literal: &Literal) -> Result<Value, SfError> {
    let bad = |expected: &str| {
        let message = format!(
            "value of filter criterion for field '{}' must be of type {expected} and should not be enclosed in quotes",
            def.name
        );
        SfError::bad_request("INVALID_FIELD", message)
    };
    if op == Op::Like && (!def.kind.is_textual() || !matches!(literal, Literal::Str(_))) {
        return Err(SfError::bad_request(
            "INVALID_FIELD",
            format!("invalid operator on field '{}': LIKE", def.name),
        ));
    }
    let ordering = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
    match (def.kind, literal) {
        (_, Literal::Null) if ordering => {
            Err(SfError::malformed_query("null can only be compared with = or !="))
        }
        (_, Literal::Null) => Ok(Value::Null),
        (FieldType::Boolean, Literal::Bool(b)) if !ordering => Ok(Value::Bool(*b)),
        (FieldType::Boolean, _) => Err(bad("boolean")),
        (kind, Literal::Number(n)) if kind.is_numeric() => Ok(Value::from(*n)),
        (kind, _) if kind.is_numeric() => Err(bad("number")),
        (FieldType::Date, Literal::Temporal(t)) => parse_date(t)
            .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| bad("date")),
        (FieldType::Date, _) => Err(bad("date")),
        (FieldType::Datetime, Literal::Temporal(t)) if t.len() > 10 => parse_datetime(t)
            .map(|at| Value::String(format_datetime(at)))
            .ok_or_else(|| bad("dateTime")),
        (FieldType::Datetime, _) => Err(bad("dateTime")),
        (FieldType::Id | FieldType::Reference, Literal::Str(s)) => {
            ids::normalize(s).map(Value::String).ok_or_else(|| {
                SfError::bad_request(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    format!("invalid ID field: {s}"),
                )
            })
        }
        (_, Literal::Str(s)) => Ok(Value::String(s.clone())),
        _ => Err(bad("string")),
    }
}

fn matches(cond: &Bound, record: &Record) -> bool {
    match cond {
        Bound::And(parts) => parts.iter().all(|c| matches(c, record)),
        Bound::Or(parts) => parts.iter().any(|c| matches(c, record)),
        Bound::Not(inner) => !matches(inner, record),
        Bound::Compare { field, kind, op, value } => compare(*kind, *op, record.get(field), value),
        Bound::In { field, kind, values, negated } => {
            let found = values.iter().any(|v| compare(*kind, Op::Eq, record.get(field), v));
            found != *negated
        }
    }
}

fn compare(kind: FieldType, op: Op, actual: &Value, wanted: &Value) -> bool {
    if wanted.is_null() || actual.is_null() {
        let both = wanted.is_null() == actual.is_null();
        return match op {
            Op::Eq => both,
            Op::Ne => !both,
            _ => false,
        };
    }
    if op == Op::Like {
        return like(&text_of(actual).to_lowercase(), &text_of(wanted).to_lowercase());
    }
    let Some(ordering) = order_values(kind, actual, wanted) else { return false };
    match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
        Op::Like => false,
    }
}

fn text_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// Orders two non-null values of one field: text without regard to case, ids, dates and
/// datetimes (stored in sortable formats) exactly, numbers and booleans by value.
fn order_values(kind: FieldType, a: &Value, b: &Value) -> Option<Ordering> {
    match kind {
        k if k.is_numeric() => a.as_f64()?.partial_cmp(&b.as_f64()?),
        FieldType::Boolean => Some(a.as_bool()?.cmp(&b.as_bool()?)),
        FieldType::Id | FieldType::Reference | FieldType::Date | FieldType::Datetime => {
            Some(a.as_str()?.cmp(b.as_str()?))
        }
        _ => Some(a.as_str()?.to_lowercase().cmp(&b.as_str()?.to_lowercase())),
    }
}

fn compare_rows(keys: &[SortKey], a: &Record, b: &Record) -> Ordering {
    for key in keys {
        let (x, y) = (a.get(&key.field), b.get(&key.field));
        let ordering = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if key.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if key.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, false) => {
                let natural = order_values(key.kind, x, y).unwrap_or(Ordering::Equal);
                if key.descending { natural.reverse() } else { natural }
            }
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// SOQL LIKE: `%` any run, `_` one character, `\` escapes either.
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    like_at(&text, &pattern)
}

fn like_at(text: &[char], pattern: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|skip| like_at(&text[skip..], rest)),
        Some(('_', rest)) => !text.is_empty() && like_at(&text[1..], rest),
        Some(('\\', rest)) if !rest.is_empty() => {
            text.first() == rest.first() && like_at(&text[1..], &rest[1..])
        }
        Some((c, rest)) => text.first() == Some(c) && like_at(&text[1..], rest),
    }
}

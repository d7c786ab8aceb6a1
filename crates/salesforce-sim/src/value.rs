//! Field values: checking and normalising what a client sends against the field's type,
//! and Salesforce's date and datetime formats.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::error::SfError;
use super::ids;
use super::schema::{FieldDef, FieldType};

/// `2013-05-20T20:49:32.000+0000`, the format of every datetime Salesforce returns. Values
/// in this format sort as text in time order, which the SOQL evaluator relies on.
pub fn format_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// A datetime in any of the forms clients send: RFC 3339 (`Z`, `+00:00`) or `+0000`.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok().map(|at| at.with_timezone(&Utc))
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().filter(|_| text.len() == 10)
}

/// The stored form of `value` for `field`, or the error Salesforce gives for it.
pub fn normalize(field: &FieldDef, value: &Value) -> Result<Value, SfError> {
    if value.is_null() {
        return null_for(field);
    }
    match field.kind {
        FieldType::Boolean => boolean(field, value),
        kind if kind.is_numeric() => number(field, value),
        FieldType::Date => date(field, value),
        FieldType::Datetime => datetime(field, value),
        FieldType::Id | FieldType::Reference => reference(field, value),
        _ => text(field, value),
    }
}

fn null_for(field: &FieldDef) -> Result<Value, SfError> {
    match field.kind {
        FieldType::Boolean => Ok(Value::Bool(false)),
        _ if !field.nillable => Err(required_missing(&field.name)),
        _ => Ok(Value::Null),
    }
}

pub fn required_missing(field: &str) -> SfError {
    SfError::bad_request(
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{field}]"),
    )
    .with_fields(&[field])
}

fn wrong_type(field: &FieldDef, value: &Value) -> SfError {
    let message = format!(
        "Cannot deserialize instance of {} from {} value {value} or request may be missing a required field",
        field.kind.name(),
        json_kind(value),
    );
    SfError::json_parser(message)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "VALUE_TRUE",
        Value::Number(_) => "VALUE_NUMBER",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
        Value::Null => "VALUE_NULL",
    }
}

fn boolean(field: &FieldDef, value: &Value) -> Result<Value, SfError> {
    match value {
        Value::Bool(_) => Ok(value.clone()),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        _ => Err(wrong_type(field, value)),
    }
}

fn number(field: &FieldDef, value: &Value) -> Result<Value, SfError> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let Some(n) = parsed.filter(|n| n.is_finite()) else { return Err(wrong_type(field, value)) };
    if field.kind == FieldType::Int {
        if n.fract() != 0.0 {
            return Err(wrong_type(field, value));
        }
        return Ok(Value::from(n as i64));
    }
    Ok(serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null))
}

fn date(field: &FieldDef, value: &Value) -> Result<Value, SfError> {
    let text = value.as_str().ok_or_else(|| wrong_type(field, value))?;
    let day = parse_date(text)
        .or_else(|| parse_datetime(text).map(|at| at.date_naive()))
        .ok_or_else(|| invalid_format(field, text, "date"))?;
    Ok(Value::String(day.format("%Y-%m-%d").to_string()))
}

fn datetime(field: &FieldDef, value: &Value) -> Result<Value, SfError> {
    let text = value.as_str().ok_or_else(|| wrong_type(field, value))?;
    let at = parse_datetime(text).ok_or_else(|| invalid_format(field, text, "datetime"))?;
    Ok(Value::String(format_datetime(at)))
}

fn invalid_format(field: &FieldDef, text: &str, kind: &str) -> SfError {
    let message = format!("Cannot deserialize instance of {kind} from VALUE_STRING value {text}");
    SfError::json_parser(message).with_fields(&[&field.name])
}

fn reference(field: &FieldDef, value: &Value) -> Result<Value, SfError> {
    let text = value.as_str().ok_or_else(|| wrong_type(field, value))?;
    if text.is_empty() {
        return null_for(field);
    }
    let id = ids::normalize(text).ok_or_else(|| {
        SfError::bad_request(
            "MALFORMED_ID",
            format!("{}: id value of incorrect type: {text}", field.name),
        )
        .with_fields(&[&field.name])
    })?;
    Ok(Value::String(id))
}

fn text(field: &FieldDef, value: &Value) -> Result<Value, SfError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err(wrong_type(field, value)),
    };
    if text.is_empty() {
        return null_for(field);
    }
    if text.chars().count() > field.length as usize {
        let message =
            format!("{}: data value too large: {text} (max length={})", field.label, field.length);
        return Err(SfError::bad_request("STRING_TOO_LONG", message).with_fields(&[&field.name]));
    }
    check_text_kind(field, &text)?;
    Ok(Value::String(text))
}

fn check_text_kind(field: &FieldDef, text: &str) -> Result<(), SfError> {
    match field.kind {
        FieldType::Email if !looks_like_email(text) => {
            let message = format!("{}: invalid email address: {text}", field.label);
            Err(SfError::bad_request("INVALID_EMAIL_ADDRESS", message).with_fields(&[&field.name]))
        }
        FieldType::Picklist if field.restricted && !field.picklist.iter().any(|v| v == text) => {
            Err(bad_picklist(field, text))
        }
        FieldType::Multipicklist if field.restricted => {
            match text.split(';').find(|part| !field.picklist.iter().any(|v| v == part)) {
                Some(part) => Err(bad_picklist(field, part)),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !text.contains(' ')
}

fn bad_picklist(field: &FieldDef, value: &str) -> SfError {
    let message = format!("{}: bad value for restricted picklist field: {value}", field.label);
    SfError::bad_request("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", message)
        .with_fields(&[&field.name])
}

/// The key under which an indexed field's value is looked up: external ids match without
/// regard to letter case, as Salesforce's case-insensitive external ids do.
pub fn index_key(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.to_lowercase()),
        other => Some(other.to_string()),
    }
}

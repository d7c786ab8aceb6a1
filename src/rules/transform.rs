//! Field transforms: how one side's value becomes the other side's, per the sync rules.
//!
//! Values are JSON as the APIs speak it. HubSpot takes and gives every property as a string
//! (`""` clears a value); Salesforce types its fields (numbers, booleans, ISO dates). A
//! transform converts in the direction of the write.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::Value;

use crate::config::{Transform, UnmappedPolicy, ValuePair};

/// The side a value is being written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Towards {
    Hubspot,
    External,
}

/// Owner ids of the two sides, paired by email through the owners APIs.
#[derive(Debug, Clone, Default)]
pub struct OwnerMap {
    hubspot_to_external: HashMap<String, String>,
    external_to_hubspot: HashMap<String, String>,
}

impl OwnerMap {
    /// Pairs owners with the same email (case-insensitive); others stay unmapped.
    pub fn by_email<'a>(
        hubspot: impl IntoIterator<Item = (&'a str, &'a str)>,
        external: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let external: HashMap<String, &str> =
            external.into_iter().map(|(id, email)| (email.to_lowercase(), id)).collect();
        let mut map = OwnerMap::default();
        for (hubspot_id, email) in hubspot {
            if let Some(external_id) = external.get(&email.to_lowercase()) {
                map.hubspot_to_external.insert(hubspot_id.into(), external_id.to_string());
                map.external_to_hubspot.insert(external_id.to_string(), hubspot_id.into());
            }
        }
        map
    }

    fn lookup(&self, id: &str, towards: Towards) -> Option<&String> {
        match towards {
            Towards::External => self.hubspot_to_external.get(id),
            Towards::Hubspot => self.external_to_hubspot.get(id),
        }
    }
}

/// What a transform produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    Value(Value),
    /// The value is not mapped and the rule says to leave the field alone.
    SkipField,
}

/// A value that cannot be converted. The message is stored as the journal row's last error
/// and logged, so it names the problem, never the value (the row's payload holds that).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    #[error("the value has no entry in the value map")]
    Unmapped(String),
    #[error("the value is not a number")]
    NotANumber(String),
    #[error("the value is not a boolean")]
    NotABool(String),
    #[error("the value is not a date")]
    NotADate(String),
    #[error("the value is not a date-time")]
    NotADatetime(String),
    #[error("owner `{0}` has no counterpart with the same email on the other side")]
    UnknownOwner(String),
}

/// Converts `value` for a write towards `towards`. No transform means the value passes
/// through, made a string for HubSpot.
pub fn apply(
    transform: Option<&Transform>,
    value: &Value,
    towards: Towards,
    owners: &OwnerMap,
) -> Result<Mapped, TransformError> {
    if let Some(Transform::Constant { value }) = transform {
        return Ok(Mapped::Value(Value::String(value.clone())));
    }
    if is_blank(value) {
        return Ok(Mapped::Value(blank(towards)));
    }
    let text = as_text(value);
    let converted = match transform {
        None => Value::String(text),
        Some(Transform::ValueMap { values, unmapped, default }) => {
            return map_value(values, *unmapped, default.as_ref(), &text, towards);
        }
        Some(Transform::Owner) => {
            let id = owners.lookup(&text, towards).ok_or(TransformError::UnknownOwner(text))?;
            Value::String(id.clone())
        }
        Some(Transform::Number) => number(&text)?,
        Some(Transform::Bool) => boolean(&text)?,
        Some(Transform::Date) => Value::String(date_for(date(&text)?, towards)),
        Some(Transform::Datetime) => datetime(&text, towards)?,
        Some(Transform::MultiSelect) => Value::String(multi_select(&text)),
        Some(Transform::Constant { .. }) => unreachable!("constants return above"),
    };
    Ok(Mapped::Value(typed_for(converted, towards)))
}

/// Null, a missing value and the empty string all mean "no value".
pub fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        _ => false,
    }
}

/// HubSpot clears a property with `""`; Salesforce with `null`.
fn blank(towards: Towards) -> Value {
    match towards {
        Towards::Hubspot => Value::String(String::new()),
        Towards::External => Value::Null,
    }
}

/// The value as text, as HubSpot would hold it.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// HubSpot takes strings only; Salesforce keeps the converted type.
fn typed_for(value: Value, towards: Towards) -> Value {
    match (towards, value) {
        (Towards::Hubspot, Value::String(text)) => Value::String(text),
        (Towards::Hubspot, other) => Value::String(as_text(&other)),
        (Towards::External, other) => other,
    }
}

/// Picks one side's value out of a value-map pair.
type Side = fn(&ValuePair) -> &str;

fn map_value(
    pairs: &[ValuePair],
    unmapped: UnmappedPolicy,
    default: Option<&ValuePair>,
    text: &str,
    towards: Towards,
) -> Result<Mapped, TransformError> {
    let (from, to): (Side, Side) = match towards {
        Towards::External => (|p| &p.hubspot, |p| &p.external),
        Towards::Hubspot => (|p| &p.external, |p| &p.hubspot),
    };
    if let Some(pair) = pairs.iter().find(|pair| from(pair) == text) {
        return Ok(Mapped::Value(Value::String(to(pair).to_string())));
    }
    match (unmapped, default) {
        (UnmappedPolicy::SkipField, _) => Ok(Mapped::SkipField),
        (UnmappedPolicy::Default, Some(pair)) => Ok(Mapped::Value(Value::String(to(pair).into()))),
        _ => Err(TransformError::Unmapped(text.to_string())),
    }
}

fn number(text: &str) -> Result<Value, TransformError> {
    let parsed: f64 = text.trim().parse().map_err(|_| TransformError::NotANumber(text.into()))?;
    if !parsed.is_finite() {
        return Err(TransformError::NotANumber(text.into()));
    }
    let number = if parsed.fract() == 0.0 && parsed.abs() < 9.0e15 {
        serde_json::Number::from(parsed as i64)
    } else {
        serde_json::Number::from_f64(parsed)
            .ok_or_else(|| TransformError::NotANumber(text.into()))?
    };
    Ok(Value::Number(number))
}

fn boolean(text: &str) -> Result<Value, TransformError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(Value::Bool(true)),
        "false" | "no" | "0" => Ok(Value::Bool(false)),
        _ => Err(TransformError::NotABool(text.into())),
    }
}

/// A date as `YYYY-MM-DD`, an ISO date-time at midnight, or HubSpot's epoch milliseconds.
fn date(text: &str) -> Result<NaiveDate, TransformError> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date);
    }
    parse_instant(text)
        .map(|at| at.date_naive())
        .ok_or_else(|| TransformError::NotADate(text.into()))
}

/// Salesforce takes `YYYY-MM-DD`; HubSpot takes midnight UTC in epoch milliseconds, which
/// both its date and its datetime properties accept.
fn date_for(date: NaiveDate, towards: Towards) -> String {
    match towards {
        Towards::External => date.format("%Y-%m-%d").to_string(),
        Towards::Hubspot => {
            date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis().to_string()
        }
    }
}

/// HubSpot wants ISO with milliseconds and `Z`; Salesforce accepts the same.
fn datetime(text: &str, _towards: Towards) -> Result<Value, TransformError> {
    let at = parse_instant(text.trim()).ok_or_else(|| TransformError::NotADatetime(text.into()))?;
    Ok(Value::String(at.to_rfc3339_opts(SecondsFormat::Millis, true)))
}

/// RFC 3339, Salesforce's `+0000` offset form, or epoch milliseconds.
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    if let Ok(at) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(at.with_timezone(&Utc));
    }
    let millis: i64 = text.parse().ok()?;
    DateTime::from_timestamp_millis(millis)
}

/// Both sides separate multi-select values with `;`; trims spaces and drops empties.
fn multi_select(text: &str) -> String {
    text.split(';').map(str::trim).filter(|v| !v.is_empty()).collect::<Vec<_>>().join(";")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(
        transform: Option<Transform>,
        value: Value,
        towards: Towards,
    ) -> Result<Mapped, TransformError> {
        let owners = OwnerMap::by_email([("101", "ann@acme.com")], [("005A", "ANN@acme.com")]);
        apply(transform.as_ref(), &value, towards, &owners)
    }

    fn value(result: Result<Mapped, TransformError>) -> Value {
        match result.expect("transform succeeds") {
            Mapped::Value(value) => value,
            Mapped::SkipField => panic!("skipped"),
        }
    }

    fn stages(unmapped: UnmappedPolicy, default: Option<ValuePair>) -> Transform {
        let pair = |h: &str, e: &str| ValuePair { hubspot: h.into(), external: e.into() };
        Transform::ValueMap {
            values: vec![pair("lead", "Lead"), pair("customer", "Customer")],
            unmapped,
            default,
        }
    }

    #[test]
    fn untransformed_values_become_strings_for_hubspot_and_pass_through_to_salesforce() {
        assert_eq!(value(run(None, json!(42), Towards::Hubspot)), json!("42"));
        assert_eq!(value(run(None, json!("Ann"), Towards::External)), json!("Ann"));
    }

    #[test]
    fn blanks_clear_the_target_the_way_each_api_expects() {
        assert_eq!(value(run(Some(Transform::Number), json!(null), Towards::Hubspot)), json!(""));
        assert_eq!(value(run(Some(Transform::Number), json!(""), Towards::External)), json!(null));
    }

    #[test]
    fn value_maps_translate_both_ways() {
        let map = stages(UnmappedPolicy::Fail, None);
        assert_eq!(value(run(Some(map.clone()), json!("lead"), Towards::External)), json!("Lead"));
        assert_eq!(value(run(Some(map), json!("Customer"), Towards::Hubspot)), json!("customer"));
    }

    #[test]
    fn unmapped_values_fail_skip_or_take_the_default_as_configured() {
        let fail =
            run(Some(stages(UnmappedPolicy::Fail, None)), json!("evangelist"), Towards::External);
        assert_eq!(fail, Err(TransformError::Unmapped("evangelist".into())));
        let skip =
            run(Some(stages(UnmappedPolicy::SkipField, None)), json!("x"), Towards::External);
        assert_eq!(skip, Ok(Mapped::SkipField));
        let other = ValuePair { hubspot: "other".into(), external: "Other".into() };
        let default =
            run(Some(stages(UnmappedPolicy::Default, Some(other))), json!("x"), Towards::Hubspot);
        assert_eq!(value(default), json!("other"));
    }

    #[test]
    fn owners_are_paired_by_email_and_an_unknown_owner_is_an_error() {
        assert_eq!(
            value(run(Some(Transform::Owner), json!("101"), Towards::External)),
            json!("005A")
        );
        assert_eq!(
            value(run(Some(Transform::Owner), json!("005A"), Towards::Hubspot)),
            json!("101")
        );
        let unknown = run(Some(Transform::Owner), json!("999"), Towards::External);
        assert_eq!(unknown, Err(TransformError::UnknownOwner("999".into())));
    }

    #[test]
    fn numbers_are_typed_for_salesforce_and_text_for_hubspot() {
        assert_eq!(
            value(run(Some(Transform::Number), json!("1500.50"), Towards::External)),
            json!(1500.5)
        );
        assert_eq!(value(run(Some(Transform::Number), json!("12"), Towards::External)), json!(12));
        assert_eq!(value(run(Some(Transform::Number), json!(12.0), Towards::Hubspot)), json!("12"));
        let bad = run(Some(Transform::Number), json!("12 apples"), Towards::External);
        assert_eq!(bad, Err(TransformError::NotANumber("12 apples".into())));
    }

    #[test]
    fn booleans_accept_the_usual_spellings() {
        assert_eq!(
            value(run(Some(Transform::Bool), json!("TRUE"), Towards::External)),
            json!(true)
        );
        assert_eq!(
            value(run(Some(Transform::Bool), json!(false), Towards::Hubspot)),
            json!("false")
        );
        assert!(run(Some(Transform::Bool), json!("maybe"), Towards::External).is_err());
    }

    #[test]
    fn dates_accept_iso_dates_midnight_datetimes_and_epoch_millis() {
        for input in
            [json!("2026-03-01"), json!("2026-03-01T00:00:00.000Z"), json!("1772323200000")]
        {
            assert_eq!(
                value(run(Some(Transform::Date), input, Towards::External)),
                json!("2026-03-01")
            );
        }
        assert!(run(Some(Transform::Date), json!("March 1st"), Towards::External).is_err());
        let midnight = value(run(Some(Transform::Date), json!("2026-03-01"), Towards::Hubspot));
        assert_eq!(midnight, json!("1772323200000"), "HubSpot gets midnight UTC in epoch ms");
    }

    #[test]
    fn datetimes_normalise_to_utc_with_milliseconds() {
        let from_salesforce = json!("2026-03-01T10:30:00.000+0000");
        let expected = json!("2026-03-01T10:30:00.000Z");
        assert_eq!(
            value(run(Some(Transform::Datetime), from_salesforce, Towards::Hubspot)),
            expected
        );
        let from_millis = json!("1772361000000");
        assert_eq!(value(run(Some(Transform::Datetime), from_millis, Towards::External)), expected);
    }

    #[test]
    fn multi_select_values_are_trimmed_and_joined_with_semicolons() {
        let mapped = run(Some(Transform::MultiSelect), json!(" a; b ;;c"), Towards::External);
        assert_eq!(value(mapped), json!("a;b;c"));
    }

    #[test]
    fn a_constant_is_written_whatever_the_source_says() {
        let constant = Transform::Constant { value: "HubSpot".into() };
        assert_eq!(
            value(run(Some(constant.clone()), json!("x"), Towards::External)),
            json!("HubSpot")
        );
        assert_eq!(value(run(Some(constant), json!(null), Towards::External)), json!("HubSpot"));
    }
}

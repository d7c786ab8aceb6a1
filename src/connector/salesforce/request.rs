//! Building Salesforce requests: collection bodies and SOQL, as pure functions tested
//! without a network.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::connector::{ConnectorError, Properties, UpdateItem, UpsertItem};

/// Records per collection call.
pub const COLLECTION_SIZE: usize = 200;

fn record(object: &str, properties: &Properties) -> Map<String, Value> {
    let mut record = Map::new();
    record.insert("attributes".into(), json!({ "type": object }));
    for (name, value) in properties {
        record.insert(name.clone(), value.clone());
    }
    record
}

/// `PATCH /composite/sobjects/{object}/{key_field}` with `allOrNone=false`.
pub fn upsert_body(object: &str, key_field: &str, items: &[&UpsertItem]) -> Value {
    let records: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut record = record(object, &item.properties);
            record.insert(key_field.to_string(), Value::String(item.key.clone()));
            Value::Object(record)
        })
        .collect();
    json!({ "allOrNone": false, "records": records })
}

/// `PATCH /composite/sobjects`: each record names its type and id.
pub fn update_body(object: &str, items: &[&UpdateItem]) -> Value {
    let records: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut record = record(object, &item.properties);
            record.insert("id".into(), Value::String(item.id.clone()));
            Value::Object(record)
        })
        .collect();
    json!({ "allOrNone": false, "records": records })
}

/// Objects whose losers of a merge keep `MasterRecordId`.
pub fn mergeable(object: &str) -> bool {
    ["account", "contact", "lead", "case"].contains(&object.to_ascii_lowercase().as_str())
}

/// A SOQL datetime literal, floored to the second (SOQL literals carry no fractions).
pub fn soql_datetime(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A quoted SOQL string, every character SOQL escapes escaped (`\n \r \t \b \f \" \' \\`).
pub fn soql_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    for c in text.chars() {
        match c {
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '"' => quoted.push_str("\\\""),
            '\'' => quoted.push_str("\\'"),
            '\\' => quoted.push_str("\\\\"),
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    quoted
}

/// An object or field name as SOQL and REST paths take it: a letter, then letters, digits
/// and single underscores, in `__`-joined parts for a namespace and a `__c`, `__r` (or
/// other) suffix. Anything else is refused, whether or not schemas are validated, so no
/// name from config can change a query or a path.
pub fn check_name(name: &str) -> Result<(), ConnectorError> {
    let part_ok = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_alphabetic())
            && !part.ends_with('_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !part.contains("__")
    };
    let valid = name.len() <= 120 && name.split("__").all(part_ok);
    match valid {
        true => Ok(()),
        false => Err(ConnectorError::Setup(format!(
            "`{}` is not a Salesforce object or field name (letters, digits and underscores, \
             e.g. `Email` or `HubSpot_Id__c`)",
            name.escape_debug()
        ))),
    }
}

fn select_list(object: &str, fields: &[String], system: &[&str]) -> Result<String, ConnectorError> {
    check_name(object)?;
    let mut names: Vec<String> = Vec::new();
    let mut wanted: Vec<String> = system.iter().map(|s| s.to_string()).collect();
    if mergeable(object) && system.contains(&"IsDeleted") {
        wanted.push("MasterRecordId".into());
    }
    wanted.extend(fields.iter().cloned());
    for field in &wanted {
        check_name(field)?;
        if !names.iter().any(|n| n.eq_ignore_ascii_case(field)) {
            names.push(field.clone());
        }
    }
    Ok(names.join(", "))
}

/// The bookkeeping columns of a change (plus `MasterRecordId` where merges happen).
const CHANGE_COLUMNS: &[&str] = &["Id", "IsDeleted", "SystemModstamp"];

/// The change query for `queryAll`: deletes and merges included, in (SystemModstamp, Id)
/// order, from `since`.
pub fn changes_soql(
    object: &str,
    fields: &[String],
    since: DateTime<Utc>,
) -> Result<String, ConnectorError> {
    let select = select_list(object, fields, CHANGE_COLUMNS)?;
    Ok(format!(
        "SELECT {select} FROM {object} WHERE SystemModstamp >= {} ORDER BY SystemModstamp, Id",
        soql_datetime(since)
    ))
}

/// Up to `limit` live records in Id order after the Id `after`, for a backfill page. It
/// reads the same columns as [`changes_soql`], so a record read by both paths reads the
/// same and is journalled once (the journal's dedup key digests what was read).
pub fn all_soql(
    object: &str,
    fields: &[String],
    after: Option<&str>,
    limit: usize,
) -> Result<String, ConnectorError> {
    let select = select_list(object, fields, CHANGE_COLUMNS)?;
    let after = after.map(|id| format!(" WHERE Id > {}", soql_string(id))).unwrap_or_default();
    Ok(format!("SELECT {select} FROM {object}{after} ORDER BY Id LIMIT {limit}"))
}

/// Records whose `field` is one of `values`.
pub fn where_in_soql(
    object: &str,
    fields: &[String],
    field: &str,
    values: &[String],
) -> Result<String, ConnectorError> {
    let select = select_list(object, fields, &["Id", "SystemModstamp", field])?;
    let list: Vec<String> = values.iter().map(|v| soql_string(v)).collect();
    Ok(format!("SELECT {select} FROM {object} WHERE {field} IN ({})", list.join(", ")))
}

/// `SELECT COUNT() FROM object`.
pub fn count_soql(object: &str) -> Result<String, ConnectorError> {
    check_name(object)?;
    Ok(format!("SELECT COUNT() FROM {object}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upsert_names_the_type_the_external_id_and_partial_success() {
        let item = UpsertItem {
            key: "hs-1".into(),
            properties: [("LastName".to_string(), json!("Ng"))].into(),
        };
        let body = upsert_body("Contact", "HubSpot_Id__c", &[&item]);
        assert_eq!(
            body,
            json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "hs-1", "LastName": "Ng"}
            ]})
        );
    }

    #[test]
    fn the_change_query_reads_deletes_and_merges_in_timestamp_then_id_order() {
        let since = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z").unwrap().to_utc();
        let soql = changes_soql("Contact", &["Email".into(), "Id".into()], since).unwrap();
        assert_eq!(
            soql,
            "SELECT Id, IsDeleted, SystemModstamp, MasterRecordId, Email FROM Contact \
             WHERE SystemModstamp >= 2026-01-02T03:04:05Z ORDER BY SystemModstamp, Id"
        );
        assert!(!changes_soql("Opportunity", &[], since).unwrap().contains("MasterRecordId"));
    }

    #[test]
    fn a_backfill_page_is_a_keyset_query_after_the_last_id() {
        let fields = ["LastName".to_string()];
        assert_eq!(
            all_soql("Contact", &fields, None, 2000).unwrap(),
            "SELECT Id, IsDeleted, SystemModstamp, MasterRecordId, LastName FROM Contact ORDER BY Id LIMIT 2000"
        );
        assert_eq!(
            all_soql("Contact", &fields, Some("003000000000001AAA"), 2000).unwrap(),
            "SELECT Id, IsDeleted, SystemModstamp, MasterRecordId, LastName FROM Contact \
             WHERE Id > '003000000000001AAA' ORDER BY Id LIMIT 2000"
        );
    }

    #[test]
    fn quoted_values_cannot_break_out_of_a_soql_string() {
        assert_eq!(soql_string(r"o'brien\x"), r"'o\'brien\\x'");
    }

    #[test]
    fn control_characters_and_quotes_are_escaped_in_soql_strings() {
        let text = "a\nb\rc\td\u{8}e\u{c}f\"g'h\\i";
        assert_eq!(soql_string(text), r#"'a\nb\rc\td\be\ff\"g\'h\\i'"#);
    }

    #[test]
    fn object_and_field_names_that_could_change_a_query_are_refused() {
        for good in ["Contact", "HubSpot_Id__c", "ns__Score__c", "Account__r", "Field2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Email, Phone", "Id FROM User --", "a b", "1st", "x'", "Name__", "_x"] {
            let err = check_name(bad).unwrap_err();
            assert!(matches!(err, ConnectorError::Setup(_)), "{bad}: {err}");
        }
        let fields = ["Email FROM User WHERE Id != null --".to_string()];
        assert!(where_in_soql("Contact", &fields, "Id", &["1".into()]).is_err());
        assert!(all_soql("Contact; DELETE", &[], None, 10).is_err());
    }
}

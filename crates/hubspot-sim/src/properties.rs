//! Property definitions: HubSpot's default properties per standard object, and how a written
//! value is checked and normalised against its property's type.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// One option of an enumeration property.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    pub label: String,
    pub value: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub display_order: i64,
    #[serde(default)]
    pub hidden: bool,
}

/// A property definition, as the Properties API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyDef {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub field_type: String,
    pub group_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub options: Vec<PropertyOption>,
    #[serde(default)]
    pub display_order: i64,
    #[serde(default)]
    pub has_unique_value: bool,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub read_only_value: bool,
    #[serde(default)]
    pub hubspot_defined: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

/// Why a value was refused: HubSpot's error code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    pub code: &'static str,
    pub message: String,
}

impl PropertyDef {
    pub fn new(name: &str, kind: &str, group: &str) -> Self {
        let field_type = match kind {
            "number" => "number",
            "bool" => "booleancheckbox",
            "enumeration" => "select",
            "date" | "datetime" => "date",
            _ => "text",
        };
        PropertyDef {
            name: name.into(),
            label: label_of(name),
            kind: kind.into(),
            field_type: field_type.into(),
            group_name: group.into(),
            description: String::new(),
            options: Vec::new(),
            display_order: -1,
            has_unique_value: false,
            hidden: false,
            read_only_value: false,
            hubspot_defined: true,
            archived: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    pub(super) fn read_only(mut self) -> Self {
        self.read_only_value = true;
        self
    }

    pub(super) fn options(mut self, values: &[&str]) -> Self {
        self.options = values
            .iter()
            .enumerate()
            .map(|(i, v)| PropertyOption {
                label: label_of(v),
                value: v.to_string(),
                description: String::new(),
                display_order: i as i64,
                hidden: false,
            })
            .collect();
        self
    }

    /// Checks a written value and returns it as stored. The empty string clears.
    pub fn normalise(&self, value: &str, current: Option<&str>) -> Result<String, ValueError> {
        if value.is_empty() {
            return Ok(String::new());
        }
        match self.kind.as_str() {
            "number" => normalise_number(&self.name, value),
            "bool" => normalise_bool(&self.name, value),
            "date" => normalise_date(&self.name, value),
            "datetime" => normalise_datetime(&self.name, value),
            "enumeration" => self.normalise_enumeration(value, current),
            _ if value.len() > 65_536 => Err(invalid(
                "INVALID_STRING",
                format!("{} must be at most 65536 characters long", self.name),
            )),
            _ => Ok(value.to_string()),
        }
    }

    fn normalise_enumeration(
        &self,
        value: &str,
        current: Option<&str>,
    ) -> Result<String, ValueError> {
        if self.options.is_empty() {
            return Ok(value.to_string());
        }
        let multi = self.field_type == "checkbox";
        let (append, body) = match value.strip_prefix(';') {
            Some(rest) if multi => (true, rest),
            _ => (false, value),
        };
        let parts: Vec<&str> = if multi { body.split(';').collect() } else { vec![body] };
        if let Some(bad) = parts.iter().find(|p| !self.options.iter().any(|o| o.value == **p)) {
            let allowed: Vec<&str> = self.options.iter().map(|o| o.value.as_str()).collect();
            let message =
                format!("{bad} was not one of the allowed options: [{}]", allowed.join(", "));
            return Err(invalid("INVALID_OPTION", message));
        }
        match (append, current) {
            (true, Some(existing)) if !existing.is_empty() => Ok(format!("{existing};{body}")),
            _ => Ok(body.to_string()),
        }
    }

    /// Numeric view of a stored value, for search comparisons and sorting.
    pub fn numeric(&self, stored: &str) -> Option<f64> {
        match self.kind.as_str() {
            "number" | "date" => stored.parse().ok(),
            "datetime" => parse_datetime(stored).map(|t| t.timestamp_millis() as f64),
            _ => None,
        }
    }
}

fn invalid(code: &'static str, message: String) -> ValueError {
    ValueError { code, message }
}

fn label_of(name: &str) -> String {
    let words = name.trim_start_matches("hs_").split('_').filter(|w| !w.is_empty());
    let mut label: Vec<String> = Vec::new();
    for word in words {
        let mut chars = word.chars();
        let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
        label.push(first + chars.as_str());
    }
    label.join(" ")
}

fn normalise_number(name: &str, value: &str) -> Result<String, ValueError> {
    let trimmed = value.trim();
    let well_formed = trimmed.parse::<f64>().is_ok_and(f64::is_finite)
        && trimmed.matches('.').count() <= 1
        && !trimmed.contains(',');
    if well_formed {
        Ok(trimmed.to_string())
    } else {
        Err(invalid("INVALID_INTEGER", format!("{value} was not a valid number for {name}")))
    }
}

fn normalise_bool(name: &str, value: &str) -> Result<String, ValueError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "false" => Ok(value.to_ascii_lowercase()),
        _ => Err(invalid("INVALID_BOOLEAN", format!("{value} was not a valid boolean for {name}"))),
    }
}

/// Dates are stored as epoch milliseconds at midnight UTC, as v3 reads return them.
fn normalise_date(name: &str, value: &str) -> Result<String, ValueError> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(date.and_time(NaiveTime::MIN).and_utc().timestamp_millis().to_string());
    }
    match value.parse::<i64>() {
        Ok(ms) if ms.rem_euclid(86_400_000) == 0 => Ok(ms.to_string()),
        Ok(_) => Err(invalid(
            "INVALID_DATE",
            format!("{value} is at a time other than midnight UTC; {name} is a date"),
        )),
        Err(_) => Err(invalid("INVALID_DATE", format!("{value} was not a valid date for {name}"))),
    }
}

/// Datetimes are stored as ISO-8601 UTC with milliseconds.
fn normalise_datetime(name: &str, value: &str) -> Result<String, ValueError> {
    parse_datetime(value).map(iso).ok_or_else(|| {
        invalid("INVALID_DATETIME", format!("{value} was not a valid datetime for {name}"))
    })
}

/// Epoch milliseconds or ISO-8601, as HubSpot accepts both.
pub fn parse_datetime(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(ms) = value.parse::<i64>() {
        return DateTime::from_timestamp_millis(ms);
    }
    canonical_datetime(value)
        .or_else(|| DateTime::parse_from_rfc3339(value).ok().map(|t| t.with_timezone(&Utc)))
}

/// The form the simulator stores, `2019-10-30T03:30:17.883Z`, read without the general
/// RFC 3339 parser: search compares this property of every record on every page.
fn canonical_datetime(value: &str) -> Option<DateTime<Utc>> {
    let b = value.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u32> {
        b[from..to]
            .iter()
            .try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(digits(0, 4)? as i32, digits(5, 7)?, digits(8, 10)?)?;
    let time = NaiveTime::from_hms_milli_opt(
        digits(11, 13)?,
        digits(14, 16)?,
        digits(17, 19)?,
        digits(20, 23)?,
    )?;
    Some(date.and_time(time).and_utc())
}

/// ISO-8601 UTC with milliseconds: `2019-10-30T03:30:17.883Z`.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn iso_ms(ms: i64) -> String {
    iso(DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_midnight_utc_and_are_stored_as_milliseconds() {
        let date = PropertyDef::new("d", "date", "g");
        assert_eq!(date.normalise("2015-05-01", None).unwrap(), "1430438400000");
        assert_eq!(date.normalise("1430438400000", None).unwrap(), "1430438400000");
        assert_eq!(date.normalise("1430438400001", None).unwrap_err().code, "INVALID_DATE");
        assert_eq!(date.normalise("May 1st", None).unwrap_err().code, "INVALID_DATE");
    }

    #[test]
    fn datetimes_are_stored_as_iso_with_milliseconds() {
        let at = PropertyDef::new("t", "datetime", "g");
        assert_eq!(at.normalise("1572480000000", None).unwrap(), "2019-10-31T00:00:00.000Z");
        assert_eq!(at.normalise("2020-02-29T03:30:17Z", None).unwrap(), "2020-02-29T03:30:17.000Z");
        assert!(at.normalise("yesterday", None).is_err());
    }

    #[test]
    fn stored_datetimes_read_back_as_the_general_parser_reads_them() {
        for text in
            ["2019-10-30T03:30:17.883Z", "2020-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z"]
        {
            let general = DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
            assert_eq!(canonical_datetime(text), Some(general), "{text}");
            assert_eq!(parse_datetime(text), Some(general), "{text}");
        }
        assert_eq!(canonical_datetime("2019-02-30T03:30:17.883Z"), None);
        assert_eq!(canonical_datetime("2019-10-30T03:30:17.883+01:00"), None);
        let offset = parse_datetime("2019-10-30T03:30:17.883+01:00").unwrap();
        assert_eq!(offset.to_rfc3339(), "2019-10-30T02:30:17.883+00:00");
    }

    #[test]
    fn numbers_allow_one_decimal_point_and_no_grouping() {
        let n = PropertyDef::new("n", "number", "g");
        assert_eq!(n.normalise("1500.5", None).unwrap(), "1500.5");
        assert!(n.normalise("1,500", None).is_err());
        assert!(n.normalise("abc", None).is_err());
    }

    #[test]
    fn multi_select_values_with_a_leading_semicolon_append() {
        let mut p = PropertyDef::new("m", "enumeration", "g").options(&["a", "b", "c"]);
        p.field_type = "checkbox".into();
        assert_eq!(p.normalise(";b;c", Some("a")).unwrap(), "a;b;c");
        assert_eq!(p.normalise("b", Some("a")).unwrap(), "b");
        assert_eq!(p.normalise("d", None).unwrap_err().code, "INVALID_OPTION");
    }
}

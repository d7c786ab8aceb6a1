//! Operator input for journal filters: times, statuses and sides as typed on the CLI or
//! given to the admin API.

use chrono::{DateTime, Utc};

use super::change::Status;
use crate::config::Side;

/// An RFC 3339 time, a date (`2026-11-30`, midnight UTC), or an age before now such as
/// `90m` or `2days`.
pub fn parse_when(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let age = humantime::parse_duration(text).map_err(|_| {
        format!(
            "`{text}` is neither an RFC 3339 time, a date like `2026-11-30`, nor an age like `2h`"
        )
    })?;
    let age = chrono::Duration::from_std(age).map_err(|err| err.to_string())?;
    Ok(Utc::now() - age)
}

/// `pending`, `failed`, … with the list of valid names in the error.
pub fn parse_status(text: &str) -> Result<Status, String> {
    Status::parse(text).ok_or_else(|| {
        let known: Vec<_> = Status::ALL.iter().map(|s| s.as_str()).collect();
        format!("unknown status `{text}`; use one of {}", known.join(", "))
    })
}

/// `hubspot` or `external`.
pub fn parse_side(text: &str) -> Result<Side, String> {
    match text {
        "hubspot" => Ok(Side::Hubspot),
        "external" => Ok(Side::External),
        _ => Err(format!("unknown side `{text}`; use hubspot or external")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_date_means_midnight_utc_and_a_bad_value_is_named() {
        let day = parse_when("2026-11-30").unwrap();
        assert_eq!(day, DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z").unwrap());
        let exact = parse_when("2026-11-30T12:30:00+01:00").unwrap();
        assert_eq!(exact, DateTime::parse_from_rfc3339("2026-11-30T11:30:00Z").unwrap());
        let err = parse_when("2026-13-40").unwrap_err();
        assert!(err.contains("`2026-13-40`") && err.contains("date"), "{err}");
    }
}

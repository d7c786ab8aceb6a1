//! Data replication: `GET /sobjects/{T}/updated/` and `/deleted/` over a `start`–`end`
//! window, with Salesforce's window rules and id limit.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Value, json};

use super::{Params, SfPath, object};
use crate::error::{SfError, json_response};
use crate::state::{SfState, SharedState};
use crate::value::{format_datetime, parse_datetime};

/// How far back `updated` reaches.
const UPDATED_WINDOW: Duration = Duration::days(30);

#[derive(serde::Deserialize)]
pub struct Window {
    start: Option<String>,
    end: Option<String>,
}

fn invalid_date(message: &str) -> SfError {
    SfError::bad_request("INVALID_REPLICATION_DATE", message)
}

/// A query-string datetime; a `+` that arrived unencoded has become a space.
fn instant(text: Option<&str>, name: &str) -> Result<DateTime<Utc>, SfError> {
    let text = text.ok_or_else(|| invalid_date(&format!("{name} is required")))?;
    let at = parse_datetime(&text.replace(' ', "+"))
        .ok_or_else(|| invalid_date(&format!("{name} is not a valid datetime: {text}")))?;
    Ok(at.duration_trunc(Duration::minutes(1)).unwrap_or(at))
}

/// The window with seconds truncated and `end` no later than now; `start` must precede
/// `end` by at least a minute.
fn window(state: &SfState, params: &Window) -> Result<(DateTime<Utc>, DateTime<Utc>), SfError> {
    let start = instant(params.start.as_deref(), "start")?;
    let now = state.now();
    let now_minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let end = instant(params.end.as_deref(), "end")?.min(now_minute);
    if end - start < Duration::minutes(1) {
        return Err(invalid_date(
            "startDate must chronologically precede endDate by more than one minute",
        ));
    }
    Ok((start, end))
}

fn check_id_limit(state: &SfState, n: usize) -> Result<(), SfError> {
    if n > state.config.replication_id_limit {
        let message = format!(
            "too many ids: more than {} ids in the window",
            state.config.replication_id_limit
        );
        return Err(SfError::bad_request("EXCEEDED_ID_LIMIT", message));
    }
    Ok(())
}

/// `GET /sobjects/{T}/updated/?start=&end=`: ids of live records whose `SystemModstamp`
/// falls in the window.
pub async fn updated(
    State(state): State<SharedState>,
    SfPath((_, t)): SfPath<(String, String)>,
    Params(params): Params<Window>,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let (start, end) = window(&state, &params)?;
    if start < state.now() - UPDATED_WINDOW {
        return Err(invalid_date("startDate cannot be more than 30 days ago"));
    }
    let (from, to) = (format_datetime(start), format_datetime(end));
    let store = state.store();
    let ids: Vec<Value> = store
        .table(&object.name)
        .records
        .values()
        .filter(|r| !r.is_deleted())
        .filter(|r| r.get("SystemModstamp").as_str().is_some_and(|m| *m >= *from && *m < *to))
        .map(|r| Value::String(r.id().to_string()))
        .collect();
    check_id_limit(&state, ids.len())?;
    let body = json!({ "ids": ids, "latestDateCovered": to });
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /sobjects/{T}/deleted/?start=&end=`: records that went to the recycle bin in the
/// window and are still there.
pub async fn deleted(
    State(state): State<SharedState>,
    SfPath((_, t)): SfPath<(String, String)>,
    Params(params): Params<Window>,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let (start, end) = window(&state, &params)?;
    let retention = state.config.recycle_bin_retention;
    let earliest = state.now() - retention;
    let store = state.store();
    let deleted: Vec<Value> = store
        .table(&object.name)
        .records
        .values()
        .filter_map(|r| Some((r, r.deleted_at?)))
        .filter(|(_, at)| *at >= start && *at < end)
        .map(|(r, at)| json!({"id": r.id(), "deletedDate": format_datetime(at)}))
        .collect();
    check_id_limit(&state, deleted.len())?;
    let body = json!({
        "deletedRecords": deleted,
        "earliestDateAvailable": format_datetime(earliest.duration_trunc(Duration::minutes(1)).unwrap_or(earliest)),
        "latestDateCovered": format_datetime(end),
    });
    Ok(json_response(StatusCode::OK, &body))
}

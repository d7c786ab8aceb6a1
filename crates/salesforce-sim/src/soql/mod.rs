//! SOQL over REST: `GET /query` and `/queryAll`, result pages of `batchSize` rows, and
//! `nextRecordsUrl` cursors served at `/query/{locator}` (and `/queryAll/{locator}`).

mod eval;
mod lexer;
pub mod parser;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::error::{SfError, json_response};
use super::rest::{Params, SfPath};
use super::state::{SfState, SharedState};
use sim_kit::stats::RecordsRead;

/// Rows per page: Salesforce's default, and the bounds it applies to `batchSize`.
const DEFAULT_BATCH: usize = 2000;
const MIN_BATCH: usize = 200;
/// How long a cursor lives (v56.0+: two days). A cursor whose last page has been served is
/// closed at once.
const CURSOR_LIFETIME: Duration = Duration::days(2);

struct Cursor {
    rows: Arc<Vec<Value>>,
    batch: usize,
    created: DateTime<Utc>,
}

/// Open query cursors by locator.
#[derive(Default)]
pub struct Cursors {
    open: HashMap<String, Cursor>,
    sequence: u64,
}

impl Cursors {
    fn open(&mut self, rows: Arc<Vec<Value>>, batch: usize, now: DateTime<Utc>) -> String {
        self.open.retain(|_, c| now - c.created < CURSOR_LIFETIME);
        self.sequence += 1;
        let locator = format!("0r8SIM{:012}", self.sequence);
        self.open.insert(locator.clone(), Cursor { rows, batch, created: now });
        locator
    }

    fn get(&self, locator: &str, now: DateTime<Utc>) -> Option<(Arc<Vec<Value>>, usize)> {
        let cursor = self.open.get(locator).filter(|c| now - c.created < CURSOR_LIFETIME)?;
        Some((cursor.rows.clone(), cursor.batch))
    }
}

#[derive(serde::Deserialize)]
pub struct QueryParams {
    q: Option<String>,
}

/// `GET /query?q=`.
pub async fn query(
    State(state): State<SharedState>,
    SfPath(version): SfPath<String>,
    Params(params): Params<QueryParams>,
    headers: HeaderMap,
) -> Result<Response, SfError> {
    start(&state, &version, params.q, &headers, false)
}

/// `GET /queryAll?q=`: the same, with deleted and merged rows.
pub async fn query_all(
    State(state): State<SharedState>,
    SfPath(version): SfPath<String>,
    Params(params): Params<QueryParams>,
    headers: HeaderMap,
) -> Result<Response, SfError> {
    start(&state, &version, params.q, &headers, true)
}

fn start(
    state: &SfState,
    version: &str,
    soql: Option<String>,
    headers: &HeaderMap,
    all_rows: bool,
) -> Result<Response, SfError> {
    let soql = soql.filter(|q| !q.trim().is_empty());
    let soql = soql.ok_or_else(|| SfError::malformed_query("the q parameter is required"))?;
    let parsed = parser::parse(&soql)?;
    let options = eval::RunOptions {
        all_rows,
        descending_nulls_last: state.config.descending_nulls_last,
        version,
    };
    let rows = eval::run(&state.store(), &parsed, &options)?;
    if parsed.count {
        let body = json!({ "totalSize": rows.len(), "done": true, "records": [] });
        return Ok(json_response(StatusCode::OK, &body));
    }
    let batch = batch_size(headers)?;
    let rows = Arc::new(rows);
    let now = state.now();
    let locator = (rows.len() > batch)
        .then(|| state.cursors.lock().expect("cursor lock").open(rows.clone(), batch, now));
    Ok(page(version, &rows, 0, batch, locator.as_deref()))
}

/// `GET /query/{locator}` and `/queryAll/{locator}`: the page a `nextRecordsUrl` names.
pub async fn more(
    State(state): State<SharedState>,
    SfPath((version, locator)): SfPath<(String, String)>,
) -> Result<Response, SfError> {
    let invalid = || SfError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator");
    let (base, offset) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let mut cursors = state.cursors.lock().expect("cursor lock");
    let (rows, batch) = cursors.get(base, state.now()).ok_or_else(invalid)?;
    if offset >= rows.len() {
        return Err(invalid());
    }
    if offset + batch >= rows.len() {
        // The last page: clients never go back, and a long rehearsal must not keep every
        // result set it ever paged through for two days.
        cursors.open.remove(base);
    }
    drop(cursors);
    Ok(page(&version, &rows, offset, batch, Some(base)))
}

fn page(
    version: &str,
    rows: &[Value],
    offset: usize,
    batch: usize,
    locator: Option<&str>,
) -> Response {
    let end = (offset + batch).min(rows.len());
    let done = end >= rows.len();
    let mut body = json!({
        "totalSize": rows.len(),
        "done": done,
        "records": rows[offset..end],
    });
    if let (false, Some(locator)) = (done, locator) {
        body["nextRecordsUrl"] = json!(format!("/services/data/{version}/query/{locator}-{end}"));
    }
    RecordsRead::mark(end - offset, json_response(StatusCode::OK, &body))
}

/// `Sforce-Query-Options: batchSize=N`, bounded to 200–2000 as Salesforce bounds it.
fn batch_size(headers: &HeaderMap) -> Result<usize, SfError> {
    let Some(options) = headers.get("sforce-query-options").and_then(|v| v.to_str().ok()) else {
        return Ok(DEFAULT_BATCH);
    };
    let size = options
        .split([';', ','])
        .filter_map(|part| part.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
        .map(|(_, v)| v.trim().parse::<usize>());
    match size {
        None => Ok(DEFAULT_BATCH),
        Some(Ok(n)) => Ok(n.clamp(MIN_BATCH, DEFAULT_BATCH)),
        Some(Err(_)) => {
            Err(SfError::bad_request("INVALID_HEADER_TYPE", "batchSize must be a number"))
        }
    }
}

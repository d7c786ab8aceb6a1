//! Ready-made Salesforce faults for the shared fault plan: server errors, row locks, the
//! request limit and expired sessions, with Salesforce's bodies.

use serde_json::json;

use super::error::JSON_UTF8;
use sim_kit::control::Preset;
use sim_kit::faults::Fault;

/// The faults above by name, for `POST /__sim/faults` with `{"preset": NAME}`.
pub const PRESETS: &[Preset] = &[
    ("server_error", server_error),
    ("unavailable", unavailable),
    ("unable_to_lock_row", unable_to_lock_row),
    ("request_limit_exceeded", request_limit_exceeded),
    ("session_expired", session_expired),
];

fn sf_error(status: u16, code: &str, message: &str) -> Fault {
    Fault::Respond {
        status,
        body: json!([{ "message": message, "errorCode": code, "fields": [] }]),
        headers: vec![("content-type".into(), JSON_UTF8.into())],
    }
}

/// 500 `UNKNOWN_EXCEPTION`.
pub fn server_error() -> Fault {
    sf_error(
        500,
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
    )
}

/// 503 `SERVER_UNAVAILABLE`.
pub fn unavailable() -> Fault {
    sf_error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
}

/// 400 `UNABLE_TO_LOCK_ROW`, as a request that could not lock its records gets.
pub fn unable_to_lock_row() -> Fault {
    sf_error(
        400,
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access to this record or 1 records",
    )
}

/// 403 `REQUEST_LIMIT_EXCEEDED`.
pub fn request_limit_exceeded() -> Fault {
    sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
}

/// 401 `INVALID_SESSION_ID` for one request, as if its token had just expired. To expire
/// the tokens themselves, use `SalesforceSim::expire_tokens`.
pub fn session_expired() -> Fault {
    sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
}

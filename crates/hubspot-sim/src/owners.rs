//! The Owners API: read-only, seeded by the test handle or the seed file.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::SimState;
use super::error::{ApiError, ApiResult};
use super::properties::iso_ms;
use super::routes::{Params, ok};

/// Fills an owner's missing fields the way HubSpot always returns them.
pub fn complete(mut owner: Value, id: u64, now: i64) -> Value {
    let defaults = json!({
        "id": id.to_string(), "type": "PERSON", "firstName": "", "lastName": "", "email": "",
        "userId": id, "userIdIncludingInactive": id, "createdAt": iso_ms(now), "updatedAt": iso_ms(now),
        "archived": false, "teams": [],
    });
    if let (Some(owner), Value::Object(defaults)) = (owner.as_object_mut(), defaults) {
        for (key, value) in defaults {
            owner.entry(key).or_insert(value);
        }
        if let Some(id) = owner.get("id").filter(|v| !v.is_string()).cloned() {
            owner.insert("id".into(), json!(id.to_string()));
        }
    }
    owner
}

fn archived(owner: &Value) -> bool {
    owner["archived"].as_bool().unwrap_or(false)
}

/// `GET /crm/v3/owners`: paged, filterable by `email`.
pub async fn list(State(state): State<SimState>, params: Params) -> ApiResult<Response> {
    let limit = params.number("limit")?.unwrap_or(100).clamp(1, 500);
    let after = params.number("after")?.unwrap_or(0);
    let want_archived = params.flag("archived");
    let email = params.get("email");
    state.read_store(|store| {
        let matching: Vec<&Value> = store
            .owners
            .iter()
            .filter(|o| archived(o) == want_archived)
            .filter(|o| email.as_deref().is_none_or(|e| o["email"].as_str() == Some(e)))
            .collect();
        let page: Vec<Value> =
            matching.iter().skip(after).take(limit).map(|o| (*o).clone()).collect();
        let mut body = json!({"results": page});
        if after + limit < matching.len() {
            let next = (after + limit).to_string();
            body["paging"] = json!({"next": {"after": next, "link": format!("?after={next}")}});
        }
        Ok(ok(body))
    })
}

/// `GET /crm/v3/owners/{ownerId}?idProperty=id|userId`.
pub async fn read(
    State(state): State<SimState>,
    Path(raw): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let by_user = params.get("idProperty").as_deref() == Some("userId");
    let want_archived = params.flag("archived");
    state.read_store(|store| {
        let found = store.owners.iter().find(|o| {
            let key = if by_user {
                o["userId"].to_string()
            } else {
                o["id"].as_str().unwrap_or("").to_string()
            };
            key == raw && archived(o) == want_archived
        });
        found.cloned().map(ok).ok_or_else(|| ApiError::not_found(format!("Owner {raw} not found")))
    })
}

//! The `record_state` table: per linked pair, per side and field, the last value hubsync
//! knows, when it was edited and when it landed, and whether hubsync wrote it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

use super::decide::Known;
use crate::config::Side;

/// What is known of one linked pair: `(side, field) → Known`.
pub type PairState = HashMap<(Side, String), Known>;

/// `(side, field, value, value_at, set_at, written_by_hubsync)` as stored.
type StateRow = (String, String, Option<String>, DateTime<Utc>, DateTime<Utc>, bool);

/// Everything known of the pair behind `link_id`.
pub async fn load<'e>(executor: impl PgExecutor<'e>, link_id: i64) -> sqlx::Result<PairState> {
    let rows: Vec<StateRow> = sqlx::query_as(
        "select side, field, value, value_at, set_at, written_by_hubsync
             from hubsync.record_state where link_id = $1",
    )
    .bind(link_id)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(side, field, value, value_at, set_at, by_hubsync)| {
            let side = if side == "hubspot" { Side::Hubspot } else { Side::External };
            let value = value.map_or(Value::Null, decode);
            ((side, field), Known { value, value_at, set_at, by_hubsync })
        })
        .collect())
}

/// Stores what is now known of some fields of a pair, in one statement.
pub async fn save<'e>(
    executor: impl PgExecutor<'e>,
    link_id: i64,
    entries: &[(Side, String, Known)],
) -> sqlx::Result<()> {
    let sides: Vec<&str> = entries.iter().map(|(side, ..)| Side::as_str(*side)).collect();
    let fields: Vec<&str> = entries.iter().map(|(_, field, _)| field.as_str()).collect();
    let values: Vec<String> = entries.iter().map(|(.., known)| known.value.to_string()).collect();
    let value_at: Vec<DateTime<Utc>> = entries.iter().map(|(.., k)| k.value_at).collect();
    let set_at: Vec<DateTime<Utc>> = entries.iter().map(|(.., k)| k.set_at).collect();
    let ours: Vec<bool> = entries.iter().map(|(.., k)| k.by_hubsync).collect();
    sqlx::query(
        "insert into hubsync.record_state
             (link_id, side, field, value, value_at, set_at, written_by_hubsync)
         select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[],
                                  $6::timestamptz[], $7::bool[])
         on conflict (link_id, side, field) do update
             set value = excluded.value, value_at = excluded.value_at, set_at = excluded.set_at,
                 written_by_hubsync = excluded.written_by_hubsync, updated_at = now()",
    )
    .bind(link_id)
    .bind(sides)
    .bind(fields)
    .bind(values)
    .bind(value_at)
    .bind(set_at)
    .bind(ours)
    .execute(executor)
    .await?;
    Ok(())
}

/// Values are stored as JSON text, so a number stays a number.
fn decode(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

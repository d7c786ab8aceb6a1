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
            let replaced = Value::Null;
            ((side, field), Known { value, value_at, set_at, by_hubsync, replaced })
        })
        .collect())
}

/// Stores what is now known of some fields of a pair, in one statement.
pub async fn save<'e>(
    executor: impl PgExecutor<'e>,
    link_id: i64,
    entries: &[(Side, String, Known)],
) -> sqlx::Result<()> {
    let entries: Vec<Entry> = entries
        .iter()
        .map(|(side, field, known)| (link_id, *side, field.clone(), known.clone()))
        .collect();
    save_many(executor, &entries).await
}

/// Values are stored as JSON text, so a number stays a number.
fn decode(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// Everything known of many pairs at once.
pub async fn load_many<'e>(
    executor: impl PgExecutor<'e>,
    link_ids: &[i64],
) -> sqlx::Result<HashMap<i64, PairState>> {
    type Row =
        (i64, String, String, Option<String>, DateTime<Utc>, DateTime<Utc>, bool, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "select link_id, side, field, value, value_at, set_at, written_by_hubsync, replaced
             from hubsync.record_state where link_id = any($1)",
    )
    .bind(link_ids)
    .fetch_all(executor)
    .await?;
    let mut pairs: HashMap<i64, PairState> = HashMap::new();
    for (link_id, side, field, value, value_at, set_at, by_hubsync, replaced) in rows {
        let side = if side == "hubspot" { Side::Hubspot } else { Side::External };
        let value = value.map_or(Value::Null, decode);
        let replaced = replaced.map_or(Value::Null, decode);
        let known = Known { value, value_at, set_at, by_hubsync, replaced };
        pairs.entry(link_id).or_default().insert((side, field), known);
    }
    Ok(pairs)
}

/// One state entry of some pair: `(link_id, side, field, known)`.
pub type Entry = (i64, Side, String, Known);

/// Stores entries of many pairs in one statement: `(link_id, side, field, known)`.
pub async fn save_many<'e>(
    executor: impl PgExecutor<'e>,
    entries: &[(i64, Side, String, Known)],
) -> sqlx::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    // one entry per key, the last one winning, or Postgres refuses the upsert
    let mut last: HashMap<(i64, Side, &str), usize> = HashMap::new();
    for (index, (link, side, field, _)) in entries.iter().enumerate() {
        last.insert((*link, *side, field.as_str()), index);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_unstable();
    let pick = |f: &dyn Fn(&Entry) -> String| {
        keep.iter().map(|&i| f(&entries[i])).collect::<Vec<String>>()
    };
    let links: Vec<i64> = keep.iter().map(|&i| entries[i].0).collect();
    let value_at: Vec<DateTime<Utc>> = keep.iter().map(|&i| entries[i].3.value_at).collect();
    let set_at: Vec<DateTime<Utc>> = keep.iter().map(|&i| entries[i].3.set_at).collect();
    let ours: Vec<bool> = keep.iter().map(|&i| entries[i].3.by_hubsync).collect();
    sqlx::query(
        "insert into hubsync.record_state
             (link_id, side, field, value, value_at, set_at, written_by_hubsync)
         select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[],
                              $5::timestamptz[], $6::timestamptz[], $7::bool[])
         on conflict (link_id, side, field) do update
             set value = excluded.value, value_at = excluded.value_at, set_at = excluded.set_at,
                 written_by_hubsync = excluded.written_by_hubsync, updated_at = now(),
                 replaced = case when excluded.written_by_hubsync
                                 then hubsync.record_state.value end",
    )
    .bind(links)
    .bind(pick(&|e| e.1.as_str().to_string()))
    .bind(pick(&|e| e.2.clone()))
    .bind(pick(&|e| e.3.value.to_string()))
    .bind(value_at)
    .bind(set_at)
    .bind(ours)
    .execute(executor)
    .await?;
    Ok(())
}

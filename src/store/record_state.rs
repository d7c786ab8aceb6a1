//! The `record_state` table: per linked pair and side, one row holding every field's last
//! value hubsync knows, when it was edited and when it landed, and whether hubsync wrote it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgExecutor;

use crate::config::Side;

/// One side's last known value of a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    pub value: Value,
    /// When the value was edited at its source: what `newest_wins` compares.
    pub value_at: DateTime<Utc>,
    /// When the value landed on this side (our write, or the observed edit).
    pub set_at: DateTime<Utc>,
    /// hubsync wrote this value here; seeing it again is an echo.
    pub by_hubsync: bool,
    /// For a value hubsync wrote: what the field held before. Seeing that again, from a
    /// read older than the write, is not an edit.
    pub replaced: Value,
    /// Values hubsync wrote here before the current one, most recent first (a few). When
    /// several writes to one field are in flight, the echo of an earlier one can arrive
    /// after a later one has landed: it is still our own write, not an edit.
    pub earlier: Vec<Value>,
}

/// What is known of one linked pair: `(side, field) → Known`.
pub type PairState = HashMap<(Side, String), Known>;

/// One state entry of some pair: `(link_id, side, field, known)`.
pub type Entry = (i64, Side, String, Known);

/// A field as stored in a row's `fields` object. `set_at` is left out where it equals
/// `value_at` (an observed value lands when it was edited), and `ours` where it is false:
/// most of a pair's entries, stored and read back for every change of the pair.
#[derive(Serialize, Deserialize)]
struct Stored {
    value: Value,
    value_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    set_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ours: bool,
    /// Written by the upsert when hubsync's own value replaces another.
    #[serde(default, skip_serializing)]
    replaced: Value,
    /// Kept by the upsert: the values hubsync wrote before the current one.
    #[serde(default, skip_serializing)]
    earlier: Vec<Value>,
}

impl Stored {
    fn of(known: &Known) -> Stored {
        Stored {
            value: known.value.clone(),
            value_at: known.value_at,
            set_at: Some(known.set_at).filter(|at| *at != known.value_at),
            ours: known.by_hubsync,
            replaced: Value::Null,
            earlier: Vec::new(),
        }
    }

    fn known(self) -> Known {
        Known {
            value: self.value,
            value_at: self.value_at,
            set_at: self.set_at.unwrap_or(self.value_at),
            by_hubsync: self.ours,
            replaced: self.replaced,
            earlier: self.earlier,
        }
    }
}

/// Everything known of the pair behind `link_id`.
pub async fn load<'e>(executor: impl PgExecutor<'e>, link_id: i64) -> sqlx::Result<PairState> {
    let mut pairs = load_many(executor, &[link_id]).await?;
    Ok(pairs.remove(&link_id).unwrap_or_default())
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

/// Everything known of many pairs at once.
pub async fn load_many<'e>(
    executor: impl PgExecutor<'e>,
    link_ids: &[i64],
) -> sqlx::Result<HashMap<i64, PairState>> {
    if link_ids.is_empty() {
        return Ok(HashMap::new());
    }
    type Row = (i64, String, sqlx::types::Json<BTreeMap<String, Stored>>);
    let rows: Vec<Row> = sqlx::query_as(
        "select link_id, side, fields from hubsync.record_state where link_id = any($1)",
    )
    .bind(link_ids)
    .fetch_all(executor)
    .await?;
    let mut pairs: HashMap<i64, PairState> = HashMap::new();
    for (link_id, side, fields) in rows {
        let side = if side == "hubspot" { Side::Hubspot } else { Side::External };
        let pair = pairs.entry(link_id).or_default();
        for (field, stored) in fields.0 {
            pair.insert((side, field), stored.known());
        }
    }
    Ok(pairs)
}

/// Stores entries of many pairs in one statement, one row per pair and side; a field given
/// twice keeps its last entry. A value hubsync writes over another remembers the one it
/// replaced, so a read taken before the write is not mistaken for a new edit.
pub async fn save_many<'e>(executor: impl PgExecutor<'e>, entries: &[Entry]) -> sqlx::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut rows: BTreeMap<(i64, Side), BTreeMap<&str, Stored>> = BTreeMap::new();
    for (link, side, field, known) in entries {
        rows.entry((*link, *side)).or_default().insert(field.as_str(), Stored::of(known));
    }
    let links: Vec<i64> = rows.keys().map(|(link, _)| *link).collect();
    let sides: Vec<&str> = rows.keys().map(|(_, side)| side.as_str()).collect();
    let fields: Vec<sqlx::types::Json<BTreeMap<&str, Stored>>> =
        rows.into_values().map(sqlx::types::Json).collect();
    sqlx::query(SAVE_SQL).bind(links).bind(sides).bind(fields).execute(executor).await?;
    Ok(())
}

/// Merges the given fields into each row. For a field hubsync wrote (`ours`), `replaced`
/// keeps the value it had before, and `earlier` the last few values hubsync wrote before
/// this one (most recent first); an observed edit keeps the `earlier` it found.
const SAVE_SQL: &str = "
insert into hubsync.record_state as s (link_id, side, fields)
select * from unnest($1::bigint[], $2::text[], $3::jsonb[])
on conflict (link_id, side) do update
    set fields = s.fields || (
            select jsonb_object_agg(f.name, f.field || case
                when (f.field ->> 'ours')::boolean then jsonb_build_object(
                    'replaced', old.field -> 'value',
                    'earlier', (
                        select coalesce(jsonb_agg(e.value order by e.n), '[]')
                        from jsonb_array_elements(
                            case when (old.field ->> 'ours')::boolean
                                 then jsonb_build_array(old.field -> 'value')
                                 else '[]' end
                            || coalesce(old.field -> 'earlier', '[]')) with ordinality e (value, n)
                        where e.n <= 4))
                when old.field ? 'earlier' then jsonb_build_object('earlier', old.field -> 'earlier')
                else '{}' end)
            from jsonb_each(excluded.fields) as f (name, field)
            cross join lateral (select s.fields -> f.name) as old (field)),
        updated_at = now()";

/// Forgets what is known of a pair's values (a privacy deletion); the link stays.
pub async fn forget<'e>(executor: impl PgExecutor<'e>, link_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("delete from hubsync.record_state where link_id = $1")
        .bind(link_id)
        .execute(executor)
        .await?;
    Ok(done.rows_affected())
}

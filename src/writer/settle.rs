//! Settling a round's results in one transaction: successes update links and record state,
//! retryable failures back off, permanent ones fail the item and its journal row with the
//! API's message.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::send::Settlement;
use crate::config::Side;
use crate::error_kind::{ErrorKind, Retry};
use crate::store::outbox::{Operation, OutboxItem, StateEntry};
use crate::store::record_state::Known;
use crate::store::{self, links, outbox, record_state as state};

/// Counts of one settled round, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    pub done: usize,
    pub retried: usize,
    pub failed: usize,
    pub dead: usize,
    /// Results dropped because another worker had rescued the item meanwhile.
    pub fenced: usize,
}

pub async fn settle(
    pool: &sqlx::PgPool,
    worker: &str,
    results: Vec<(OutboxItem, Settlement)>,
    max_attempts: u32,
    landed: &(dyn Fn(&OutboxItem) -> DateTime<Utc> + Sync),
) -> Result<Settled, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut settled = Settled::default();
    let results = fence(&mut tx, worker, results, &mut settled).await?;
    let (done, rest): (Vec<_>, Vec<_>) =
        results.into_iter().partition(|(_, s)| matches!(s, Settlement::Done { .. }));
    let link_ids = link_done(&mut tx, &done).await?;
    let mut entries: Vec<(i64, Side, String, Known)> = Vec::new();
    for (index, (item, settlement)) in done.iter().enumerate() {
        let Settlement::Done { state: extra, .. } = settlement else { continue };
        if let Some(link_id) = link_ids[index] {
            let now = landed(item);
            entries.extend(item.state.iter().chain(extra).map(|e| known(link_id, e, now)));
        }
    }
    state::save_many(&mut *tx, &entries).await?;
    mark_done(&mut tx, worker, &done).await?;
    settled.done = done.len();
    for (item, settlement) in rest {
        match settlement {
            Settlement::Retry { kind, wait, message, spend } => {
                let dead = spend && item.attempts >= max_attempts as i32;
                if dead {
                    fail(&mut tx, worker, &item, "dead", kind, &message).await?;
                    settled.dead += 1;
                } else {
                    retry(&mut tx, worker, &item, kind, wait, &message, spend).await?;
                    settled.retried += 1;
                }
            }
            Settlement::Failed { message } => {
                fail(&mut tx, worker, &item, "failed", ErrorKind::Permanent, &message).await?;
                settled.failed += 1;
            }
            Settlement::Done { .. } => unreachable!("partitioned above"),
        }
    }
    tx.commit().await?;
    Ok(settled)
}

/// Keeps the results of items this worker still holds under its own claim. A worker that
/// stalled past its lease (a long GC-like pause, a frozen VM) finds its items rescued by
/// another; its late results must not overwrite links, state or status the rescuer wrote.
async fn fence(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    results: Vec<(OutboxItem, Settlement)>,
    settled: &mut Settled,
) -> Result<Vec<(OutboxItem, Settlement)>, sqlx::Error> {
    let items: Vec<&OutboxItem> = results.iter().map(|(item, _)| item).collect();
    let held = outbox::still_held(tx, worker, &items).await?;
    let (kept, fenced): (Vec<_>, Vec<_>) =
        results.into_iter().partition(|(item, _)| held.contains(&item.id));
    if !fenced.is_empty() {
        settled.fenced = fenced.len();
        let ids: Vec<i64> = fenced.iter().map(|(item, _)| item.id).collect();
        tracing::warn!(
            worker,
            ?ids,
            "outbox items were rescued by another worker after this one's lease ran out; \
             its late results are dropped"
        );
        metrics::counter!(crate::metrics::FENCED_SETTLES).increment(fenced.len() as u64);
    }
    Ok(kept)
}

fn known(link_id: i64, entry: &StateEntry, now: DateTime<Utc>) -> (i64, Side, String, Known) {
    let set_at = if entry.ours { now } else { entry.value_at };
    let known = Known {
        value: entry.value.clone(),
        value_at: entry.value_at,
        set_at,
        by_hubsync: entry.ours,
        ..Known::default()
    };
    (link_id, entry.side, entry.field.clone(), known)
}

/// The link each successful item's state belongs to: created for creates, found for the
/// rest, removed for archives (whose state goes with the link). Batched: one insert for the
/// new links and one lookup for the others; only a create that displaces an older link is
/// relinked on its own.
async fn link_done(
    tx: &mut sqlx::PgConnection,
    done: &[(OutboxItem, Settlement)],
) -> Result<Vec<Option<i64>>, sqlx::Error> {
    let created = create_links(tx, done).await?;
    let mut refs = Vec::new();
    for (item, _) in
        done.iter().filter(|(i, _)| matches!(i.operation, Operation::Update | Operation::Associate))
    {
        if let Some(target) = &item.target_id {
            refs.push((item.sync_name.clone(), item.target_side, target.clone()));
        }
        if let Some(source) = &item.source_id {
            refs.push((item.sync_name.clone(), item.target_side.other(), source.clone()));
        }
    }
    let mut found: HashMap<(String, Side, String), i64> = HashMap::new();
    for link in links::find_many(&mut *tx, &refs).await? {
        for side in [Side::Hubspot, Side::External] {
            found.insert((link.sync_name.clone(), side, link.id_on(side).to_string()), link.id);
        }
    }
    let mut ids = Vec::with_capacity(done.len());
    for (index, (item, _)) in done.iter().enumerate() {
        let link_id = match item.operation {
            Operation::Upsert => match created[index].clone() {
                Ok(id) => Some(id),
                Err((hubspot, external)) => {
                    Some(links::relink(&mut *tx, &item.sync_name, &hubspot, &external).await?)
                }
            },
            Operation::Archive => {
                let target = item.target_id.as_deref().unwrap_or_default();
                links::unlink(&mut *tx, &item.sync_name, item.target_side, target).await?;
                None
            }
            Operation::Update | Operation::Associate => {
                let by = |side: Side, id: &Option<String>| {
                    let key = (item.sync_name.clone(), side, id.clone()?);
                    found.get(&key).copied()
                };
                let by_target = match item.operation {
                    Operation::Update => by(item.target_side, &item.target_id),
                    _ => None,
                };
                by_target.or_else(|| by(item.target_side.other(), &item.source_id))
            }
        };
        ids.push(link_id);
    }
    Ok(ids)
}

/// Inserts the links of successful creates in one statement. Per item: the new link's id,
/// or the pair to relink on its own (it was linked before, or displaces a link).
async fn create_links(
    tx: &mut sqlx::PgConnection,
    done: &[(OutboxItem, Settlement)],
) -> Result<Vec<Result<i64, (String, String)>>, sqlx::Error> {
    let pairs: Vec<Option<(String, String, String)>> = done
        .iter()
        .map(|(item, settlement)| {
            let Settlement::Done { id: Some(id), .. } = settlement else { return None };
            if item.operation != Operation::Upsert {
                return None;
            }
            let source = item.source_id.clone().unwrap_or_default();
            let (hubspot, external) = match item.target_side {
                Side::External => (source, id.clone()),
                Side::Hubspot => (id.clone(), source),
            };
            Some((item.sync_name.clone(), hubspot, external))
        })
        .collect();
    let new: Vec<&(String, String, String)> = pairs.iter().flatten().collect();
    let ids = links::insert_new(tx, &new).await?;
    Ok(pairs
        .into_iter()
        .map(|pair| match pair {
            Some(pair) => ids.get(&pair).copied().ok_or((pair.1, pair.2)),
            None => Err((String::new(), String::new())),
        })
        .collect())
}

async fn mark_done(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    done: &[(OutboxItem, Settlement)],
) -> Result<(), sqlx::Error> {
    if done.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = done.iter().map(|(item, _)| item.id).collect();
    let answers: Vec<serde_json::Value> = done
        .iter()
        .map(|(_, s)| match s {
            Settlement::Done { id, created, .. } => json!({ "id": id, "created": created }),
            _ => json!({}),
        })
        .collect();
    outbox::mark_done(tx, worker, ids, answers).await
}

async fn retry(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    item: &OutboxItem,
    kind: ErrorKind,
    wait: Option<Duration>,
    message: &str,
    spend: bool,
) -> Result<(), sqlx::Error> {
    let attempt = u32::try_from(item.attempts).unwrap_or(1);
    let delay = match (spend, kind.retry(attempt, wait)) {
        (false, _) => wait.unwrap_or(Duration::from_secs(1)),
        (true, Retry::After(delay)) => delay,
        (true, Retry::Never) => Duration::from_secs(60),
    };
    outbox::retry(tx, item.id, worker, kind, message, delay, spend).await
}

/// Fails the item (`failed` or `dead`) and the journal row it came from, with the message,
/// so the operator finds it in the journal and can retry it after a fix.
async fn fail(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    item: &OutboxItem,
    status: &str,
    kind: ErrorKind,
    message: &str,
) -> Result<(), sqlx::Error> {
    outbox::fail(&mut *tx, item.id, worker, status, kind, message).await?;
    let Some(journal_id) = item.journal_id else { return Ok(()) };
    let what = format!(
        "{} to {} {}: {message}",
        item.operation.as_str(),
        item.target_side.as_str(),
        item.object_type
    );
    store::journal::write_failed(&mut *tx, journal_id, status, kind, &what, worker).await
}

/// Groups items by what one connector call can carry.
pub fn groups(items: Vec<OutboxItem>) -> Vec<Vec<OutboxItem>> {
    type Call = (String, String, Side, Operation, Option<String>);
    let mut groups: HashMap<Call, Vec<OutboxItem>> = HashMap::new();
    let mut order = Vec::new();
    for item in items {
        let key = (
            item.connector.clone(),
            item.object_type.clone(),
            item.target_side,
            item.operation,
            item.unique_property.clone(),
        );
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(item);
    }
    order.into_iter().filter_map(|key| groups.remove(&key)).collect()
}

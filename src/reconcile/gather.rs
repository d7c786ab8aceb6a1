//! Gathers a batch's [`Context`]: API reads grouped per connector and object (hydration,
//! associations, match lookups), then the database's links, record state and in-flight
//! writes. No transaction is open while an API is called.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::Mutex;

use super::context::{Context, Observed, RecordRef, SourceRef};
use super::error::ReconcileError;
use super::overtaken;
use crate::config::{Settings, Side, SyncRule};
use crate::connector::{Connector, ConnectorError, Lookup, ReadResult, Record};
use crate::journal::{ChangeKind, JournalRow};
use crate::rules::transform::{OwnerMap, as_text, is_blank};
use crate::rules::{self, connector, natural_keys, object, partner_id_field};
use crate::store::outbox::{self, AssociationTarget};
use crate::store::{links, record_state as state};

/// How long owner lists are trusted before they are read again.
const OWNERS_FRESH: Duration = Duration::from_secs(600);

/// The connectors and what each poller reads, shared by the reconciler's batches.
pub struct Sources {
    pub connectors: BTreeMap<String, Arc<dyn Connector>>,
    /// Fields read per `(side, connector, object)`: the pollers' lists.
    fields: HashMap<(Side, String, String), Vec<String>>,
    owners: Mutex<HashMap<String, (Instant, Arc<OwnerMap>)>>,
}

impl Sources {
    pub fn new(settings: &Settings, connectors: BTreeMap<String, Arc<dyn Connector>>) -> Self {
        let fields = crate::rules::feeds::specs(settings)
            .into_iter()
            .map(|spec| ((spec.side, spec.connector, spec.object), spec.fields))
            .collect();
        Sources { connectors, fields, owners: Mutex::new(HashMap::new()) }
    }

    pub fn api(&self, name: &str) -> &Arc<dyn Connector> {
        &self.connectors[name]
    }

    fn fields(&self, side: Side, connector: &str, object: &str) -> Vec<String> {
        let key = (side, connector.to_string(), object.to_string());
        self.fields.get(&key).cloned().unwrap_or_default()
    }
}

/// The rules a row belongs to.
pub fn rules_of<'r>(rules: &'r [SyncRule], row: &JournalRow) -> Vec<&'r SyncRule> {
    rules.iter().filter(|r| rules::reads(r, row.side, &row.connector, &row.object_type)).collect()
}

/// Rows whose journal entry is partial and must be read again: webhook events carry one
/// property, restores and association events none. A webhook's deletion is confirmed by a
/// read too: HubSpot also announces each record a merge absorbs as deleted.
pub fn needs_hydration(row: &JournalRow) -> bool {
    // a row an operator retried is decided on the record as it is now: the fix may be there
    let retried = row.reason.as_deref() == Some("operator_requeue");
    retried
        || matches!(
            row.kind,
            ChangeKind::Restore | ChangeKind::AssociationAdded | ChangeKind::AssociationRemoved
        )
        || (matches!(row.kind, ChangeKind::Upsert | ChangeKind::Delete) && row.source == "webhook")
}

pub(super) fn source_ref(row: &JournalRow) -> SourceRef {
    (row.side, row.connector.clone(), row.object_type.clone(), row.record_id.clone())
}

/// The row's values merged with its hydrated record; the row's own values win, unless the
/// record was modified since and holds another value (see [`super::overtaken`]).
pub fn observed(row: &JournalRow, context: &Context) -> Observed {
    let mut record_values = Observed::new();
    if let Some(Some(record)) = context.records.get(&source_ref(row)) {
        for (name, value) in &record.properties {
            let value = if is_blank(value) { Value::Null } else { Value::String(as_text(value)) };
            record_values.insert(name.clone(), (value, record.modified_at));
        }
    }
    let mut values = record_values.clone();
    for (name, change) in &row.properties {
        let value = change.value.clone().map_or(Value::Null, Value::String);
        values.insert(name.clone(), (value, change.timestamp.unwrap_or(row.occurred_at)));
    }
    overtaken::prefer_current(&mut values, row, record_values);
    values
}

/// A value of `observed` by field name, case-insensitively.
pub fn value_of<'a>(
    observed: &'a Observed,
    name: &str,
) -> Option<&'a (Value, chrono::DateTime<chrono::Utc>)> {
    observed
        .get(name)
        .or_else(|| observed.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

fn text_of(observed: &Observed, name: &str) -> Option<String> {
    value_of(observed, name).map(|(v, _)| as_text(v)).filter(|t| !t.is_empty())
}

/// Gathers everything the batch's decisions need.
pub async fn gather(
    sources: &Sources,
    rules: &[SyncRule],
    pool: &PgPool,
    rows: &[JournalRow],
) -> Result<Context, ReconcileError> {
    let mut context = Context::default();
    for link in links::find_many(pool, &record_refs(rules, rows)).await? {
        context.add_link(link);
    }
    load_busy(pool, rules, rows, &mut context).await?;
    // API reads only for rows that will be decided now and cannot be decided without them
    let wanted: Vec<JournalRow> =
        rows.iter().filter(|row| !waits(rules, row, &context)).cloned().collect();
    load_states_for_ties(pool, rules, &wanted, &mut context).await?;
    let partial: Vec<JournalRow> = wanted
        .iter()
        .filter(|row| {
            must_hydrate(rules, row, &context)
                || (needs_hydration(row)
                    && overtaken::row_is_overtaken(&rules_of(rules, row), row, &context))
        })
        .cloned()
        .collect();
    if !partial.is_empty() {
        hydrate(sources, &partial, &mut context).await?;
        // the records read may name partners (their external ids) with writes in flight
        load_busy(pool, rules, rows, &mut context).await?;
    }
    let associated: Vec<JournalRow> =
        wanted.iter().filter(|row| reads_associations(rules, row, &context)).cloned().collect();
    read_associations(sources, rules, &associated, &mut context).await?;
    find_partners(sources, rules, pool, &wanted, &mut context).await?;
    let link_ids: Vec<i64> = context.links.values().map(|l| l.id).collect();
    context.states = state::load_many(pool, &link_ids).await?;
    load_owners(sources, rules, rows, &mut context).await?;
    load_required(sources, rules, &wanted, &mut context).await?;
    Ok(context)
}

/// For privacy deletions a block scrubs: which fields the partner's CRM requires (they get
/// a placeholder rather than a blank it would refuse).
async fn load_required(
    sources: &Sources,
    rules: &[SyncRule],
    rows: &[JournalRow],
    context: &mut Context,
) -> Result<(), ReconcileError> {
    for row in rows.iter().filter(|row| row.is_privacy_deletion()) {
        for rule in rules_of(rules, row) {
            let target = row.side.other();
            let key = (rule.name.clone(), target);
            if context.required.contains_key(&key) {
                continue;
            }
            let name = connector(rule, target);
            let described = sources
                .api(name)
                .describe(object(rule, target))
                .await
                .map_err(ReconcileError::connector(name))?;
            let required = described.fields.iter().filter(|f| f.required);
            context.required.insert(key, required.map(|f| f.name.to_lowercase()).collect());
        }
    }
    Ok(())
}

/// What is known of the linked records whose webhook changes would be decided without a
/// read: a tie with a known value needs one after all.
async fn load_states_for_ties(
    pool: &PgPool,
    rules: &[SyncRule],
    wanted: &[JournalRow],
    context: &mut Context,
) -> Result<(), ReconcileError> {
    let unread = |row: &&JournalRow| needs_hydration(row) && !must_hydrate(rules, row, context);
    if wanted.iter().any(|row| unread(&row)) {
        let link_ids: Vec<i64> = context.links.values().map(|l| l.id).collect();
        context.states = state::load_many(pool, &link_ids).await?;
    }
    Ok(())
}

/// A row of a record with a write in flight waits; reading anything for it now is waste.
fn waits(rules: &[SyncRule], row: &JournalRow, context: &Context) -> bool {
    rules_of(rules, row).iter().any(|rule| context.is_busy(&rule.name, row.side, &row.record_id))
}

/// The rows' records under each block that reads them.
pub(super) fn record_refs<'a>(
    rules: &[SyncRule],
    rows: impl IntoIterator<Item = &'a JournalRow>,
) -> Vec<RecordRef> {
    rows.into_iter()
        .flat_map(|row| {
            rules_of(rules, row)
                .into_iter()
                .map(|rule| (rule.name.clone(), row.side, row.record_id.clone()))
        })
        .collect()
}

/// Linked under every block that reads it.
pub(super) fn linked(rules: &[SyncRule], row: &JournalRow, context: &Context) -> bool {
    rules_of(rules, row)
        .iter()
        .all(|rule| context.link(&rule.name, row.side, &row.record_id).is_some())
}

/// A partial row is read again unless its own properties decide it: a linked record's
/// property change, with no filter on its side to judge.
fn must_hydrate(rules: &[SyncRule], row: &JournalRow, context: &Context) -> bool {
    if !needs_hydration(row) {
        return false;
    }
    if row.reason.as_deref() == Some("operator_requeue") {
        return true;
    }
    let filtered = rules_of(rules, row).iter().any(|r| r.filter.iter().any(|p| p.side == row.side));
    row.kind != ChangeKind::Upsert
        || row.properties.is_empty()
        || filtered
        || !linked(rules, row, context)
}

/// A read that proved neither that a record exists nor that it is gone: the batch is
/// retried, never decided as if the record were gone (or had no partner).
fn unknown(api: &dyn Connector, connector: &str, reason: &str) -> ReconcileError {
    let source = ConnectorError::Unreadable {
        api: api.api(),
        status: 200,
        what: format!("a record read proved nothing: {reason}"),
    };
    ReconcileError::Connector { connector: connector.to_string(), source }
}

/// HubSpot associations are read for polled records, association events, restores and
/// records still to be created; a webhook property change of a linked record has its
/// association events of its own.
fn reads_associations(rules: &[SyncRule], row: &JournalRow, context: &Context) -> bool {
    row.side == Side::Hubspot
        && (row.source != "webhook"
            || row.kind != ChangeKind::Upsert
            || !linked(rules, row, context))
}

async fn hydrate(
    sources: &Sources,
    rows: &[JournalRow],
    context: &mut Context,
) -> Result<(), ReconcileError> {
    let mut wanted: BTreeMap<(Side, String, String), Vec<String>> = BTreeMap::new();
    for row in rows.iter().filter(|row| needs_hydration(row)) {
        let key = (row.side, row.connector.clone(), row.object_type.clone());
        wanted.entry(key).or_default().push(row.record_id.clone());
    }
    for ((side, name, object), mut ids) in wanted {
        ids.sort();
        ids.dedup();
        let Some(api) = sources.connectors.get(&name) else { continue };
        let fields = sources.fields(side, &name, &object);
        let found = api
            .read_batch(&object, &Lookup::Id, &ids, &fields)
            .await
            .map_err(ReconcileError::connector(&name))?;
        for (id, result) in ids.into_iter().zip(found) {
            let record = match result {
                ReadResult::Found(record) => Some(record),
                ReadResult::NotFound => None,
                ReadResult::Unknown { reason } => {
                    return Err(unknown(api.as_ref(), &name, &reason));
                }
            };
            context.records.insert((side, name.clone(), object.clone(), id), record);
        }
    }
    Ok(())
}

async fn read_associations(
    sources: &Sources,
    rules: &[SyncRule],
    rows: &[JournalRow],
    context: &mut Context,
) -> Result<(), ReconcileError> {
    for rule in rules.iter().filter(|r| !r.associations.is_empty()) {
        let mut ids: Vec<String> = rows
            .iter()
            .filter(|row| row.side == Side::Hubspot && !matches!(row.kind, ChangeKind::Delete))
            .filter(|row| rules::reads(rule, Side::Hubspot, &row.connector, &row.object_type))
            .map(|row| row.record_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            continue;
        }
        let api = sources.api(&rule.hubspot_connector);
        for association in &rule.associations {
            let Some(to) = rules.iter().find(|r| r.name == association.to) else { continue };
            let sets = api
                .read_associations(&rule.hubspot_object, &to.hubspot_object, &ids)
                .await
                .map_err(ReconcileError::connector(&rule.hubspot_connector))?;
            let mut first: HashMap<String, Option<String>> =
                ids.iter().map(|id| (id.clone(), None)).collect();
            for set in sets {
                let mut targets: Vec<&str> = set.links.iter().map(|l| l.to_id.as_str()).collect();
                targets.sort_by_key(|id| crate::connector::id_order(id));
                first.insert(set.from_id.clone(), targets.first().map(|id| id.to_string()));
            }
            for (id, target) in first {
                context.associations.insert((rule.name.clone(), to.name.clone(), id), target);
            }
        }
    }
    Ok(())
}

/// One lookup to run against the other side for unlinked records.
struct Probe<'r> {
    rule: &'r SyncRule,
    /// The side of the unlinked records.
    side: Side,
    lookup: Lookup,
    /// `(record id on side, key value)`.
    keys: Vec<(String, String)>,
}

/// For unlinked records, finds the record on the other side they are: the id their own
/// key field names, else a natural key's match. A record the upsert key would reach (the
/// one whose key field names this record) is found by the create's upsert itself at no
/// extra cost, so it is only looked up to overrule a natural-key match.
async fn find_partners(
    sources: &Sources,
    rules: &[SyncRule],
    pool: &PgPool,
    rows: &[JournalRow],
    context: &mut Context,
) -> Result<(), ReconcileError> {
    for stage in [Stage::PartnerId, Stage::NaturalKey, Stage::UniqueKey] {
        let probes = probes(rules, rows, context, stage);
        let mut found: Vec<(RecordRef, Record)> = Vec::new();
        for probe in probes.iter().filter(|p| !p.keys.is_empty()) {
            let other = probe.side.other();
            let name = connector(probe.rule, other);
            let fields = sources.fields(other, name, object(probe.rule, other));
            let values: Vec<String> = probe.keys.iter().map(|(_, v)| v.clone()).collect();
            let results = sources
                .api(name)
                .read_batch(object(probe.rule, other), &probe.lookup, &values, &fields)
                .await
                .map_err(ReconcileError::connector(name))?;
            for ((id, _), result) in probe.keys.iter().zip(results) {
                match result {
                    ReadResult::Found(record) => {
                        found.push(((probe.rule.name.clone(), probe.side, id.clone()), record))
                    }
                    ReadResult::NotFound => {}
                    ReadResult::Unknown { reason } => {
                        return Err(unknown(sources.api(name).as_ref(), name, &reason));
                    }
                }
            }
        }
        accept_partners(pool, context, found, stage == Stage::UniqueKey).await?;
    }
    Ok(())
}

/// The matching stages, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The record's own key field names its partner.
    PartnerId,
    /// Contact email, company domain.
    NaturalKey,
    /// The other side's key field names this record: it wins over a natural-key match.
    UniqueKey,
}

fn probes<'r>(
    rules: &'r [SyncRule],
    rows: &[JournalRow],
    context: &Context,
    stage: Stage,
) -> Vec<Probe<'r>> {
    let mut probes: Vec<Probe<'r>> = Vec::new();
    for row in
        rows.iter().filter(|r| !matches!(r.kind, ChangeKind::Delete | ChangeKind::Merge { .. }))
    {
        let values = observed(row, context);
        for rule in rules_of(rules, row) {
            let key = (rule.name.clone(), row.side, row.record_id.clone());
            let partnered = context.partners.contains_key(&key);
            let wanted = match stage {
                Stage::UniqueKey => partnered,
                _ => !partnered,
            };
            if context.links.contains_key(&key) || !wanted {
                continue;
            }
            for (lookup, value) in stage_keys(rule, row, &values, stage) {
                let at = probes.iter().position(|p| {
                    p.rule.name == rule.name && p.side == row.side && p.lookup == lookup
                });
                let at = at.unwrap_or_else(|| {
                    probes.push(Probe { rule, side: row.side, lookup, keys: Vec::new() });
                    probes.len() - 1
                });
                probes[at].keys.push((row.record_id.clone(), value));
            }
        }
    }
    probes
}

/// The lookups of one matching stage: 0, the partner id the record holds; 1, the unique
/// key on the other side that holds this record's id (or the shared key); 2, natural keys.
fn stage_keys(
    rule: &SyncRule,
    row: &JournalRow,
    values: &Observed,
    stage: Stage,
) -> Vec<(Lookup, String)> {
    let side = row.side;
    match stage {
        Stage::PartnerId => partner_id_field(rule, side)
            .and_then(|field| text_of(values, field))
            .map(|id| vec![(Lookup::Id, id)])
            .unwrap_or_default(),
        Stage::UniqueKey => {
            if let Some(field) = partner_id_field(rule, side.other()) {
                return vec![(Lookup::Unique(field.to_string()), row.record_id.clone())];
            }
            let Some(shared) = &rule.keys.shared else { return Vec::new() };
            let (mine, theirs) = match side {
                Side::Hubspot => (&shared.hubspot, &shared.external),
                Side::External => (&shared.external, &shared.hubspot),
            };
            text_of(values, mine)
                .map(|v| vec![(Lookup::Unique(theirs.clone()), v)])
                .unwrap_or_default()
        }
        Stage::NaturalKey => natural_keys(rule, side)
            .into_iter()
            .filter_map(|(mine, theirs)| {
                Some((natural_lookup(rule, side.other(), theirs), text_of(values, &mine)?))
            })
            .collect(),
    }
}

/// HubSpot reads contacts by email in batches (it is their unique identifier); other
/// natural keys need a search.
fn natural_lookup(rule: &SyncRule, side: Side, field: String) -> Lookup {
    let contacts = side == Side::Hubspot && object(rule, side) == "contacts";
    if contacts && field == "email" { Lookup::Unique(field) } else { Lookup::Field(field) }
}

/// Keeps the candidates that are not linked to another record already; `overrule`
/// replaces an earlier stage's candidate.
async fn accept_partners(
    pool: &PgPool,
    context: &mut Context,
    found: Vec<(RecordRef, Record)>,
    overrule: bool,
) -> Result<(), ReconcileError> {
    let theirs: Vec<RecordRef> = found
        .iter()
        .map(|((sync, side, _), r)| (sync.clone(), side.other(), r.id.clone()))
        .collect();
    for link in links::find_many(pool, &theirs).await? {
        context.add_link(link);
    }
    for (key, record) in found {
        let (sync, side, _) = &key;
        if context.link(sync, side.other(), &record.id).is_none() {
            if overrule {
                context.partners.insert(key, record);
            } else {
                context.partners.entry(key).or_insert(record);
            }
        }
    }
    Ok(())
}

/// Records with unsettled record writes: their rows wait for the writes to land. Records
/// with unsettled association writes are noted apart.
pub(super) async fn load_busy(
    pool: &PgPool,
    rules: &[SyncRule],
    rows: &[JournalRow],
    context: &mut Context,
) -> Result<(), ReconcileError> {
    let mut ids: HashSet<String> = HashSet::new();
    for row in rows {
        ids.insert(row.record_id.clone());
        let values = observed(row, context);
        for rule in rules_of(rules, row) {
            if let Some(key) = partner_id_field(rule, row.side).and_then(|f| text_of(&values, f)) {
                ids.insert(key);
            }
        }
    }
    let ids: Vec<String> = ids.into_iter().collect();
    let in_flight = outbox::in_flight(pool, &ids).await?;
    for (sync, target, target_id, source_id, unique_value, association) in in_flight {
        let Some(target) = Side::parse(&target) else { continue };
        // an association may wait long for its records' links: it holds back only the
        // association decisions of its source record, not the record's other changes
        if !association.is_null() {
            let parsed: Option<AssociationTarget> = serde_json::from_value(association).ok();
            if let (Some(id), Some(association)) = (source_id, parsed) {
                let key = (sync, target.other(), id, association.to_sync);
                context.busy_associations.entry(key).or_default().push(association.to_source_id);
            }
            continue;
        }
        if let Some(id) = target_id {
            context.busy.insert((sync.clone(), target, id));
        }
        if let Some(id) = source_id {
            context.busy.insert((sync.clone(), target.other(), id));
        }
        if let Some(value) = unique_value {
            context.busy_keys.insert((sync, target, value));
        }
    }
    Ok(())
}

/// Owner lists of both sides for blocks that map owners, refreshed every ten minutes.
async fn load_owners(
    sources: &Sources,
    rules: &[SyncRule],
    rows: &[JournalRow],
    context: &mut Context,
) -> Result<(), ReconcileError> {
    let mut cache = sources.owners.lock().await;
    for rule in rules.iter().filter(|r| rules::maps_owners(r)) {
        if !rows.iter().any(|row| rules_of(rules, row).iter().any(|r| r.name == rule.name)) {
            continue;
        }
        let fresh = cache.get(&rule.name).is_some_and(|(at, _)| at.elapsed() < OWNERS_FRESH);
        if !fresh {
            let map = owner_map(sources, rule).await?;
            cache.insert(rule.name.clone(), (Instant::now(), Arc::new(map)));
        }
        context.owners.insert(rule.name.clone(), cache[&rule.name].1.clone());
    }
    Ok(())
}

async fn owner_map(sources: &Sources, rule: &SyncRule) -> Result<OwnerMap, ReconcileError> {
    let read = |name: &str| {
        let api = sources.api(name).clone();
        let name = name.to_string();
        async move { api.owners().await.map_err(ReconcileError::connector(&name)) }
    };
    let hubspot = read(&rule.hubspot_connector).await?;
    let external = read(&rule.external_connector).await?;
    let pairs = |owners: &[crate::connector::Owner]| -> Vec<(String, String)> {
        owners.iter().filter_map(|o| Some((o.id.clone(), o.email.clone()?))).collect()
    };
    let (hubspot, external) = (pairs(&hubspot), pairs(&external));
    Ok(OwnerMap::by_email(
        hubspot.iter().map(|(id, email)| (id.as_str(), email.as_str())),
        external.iter().map(|(id, email)| (id.as_str(), email.as_str())),
    ))
}

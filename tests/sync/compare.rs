//! Both sides' full contents after a sync, compared: every record has exactly one linked
//! partner with equal mapped fields, counts match and no natural key appears twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hubsync::connector::{Connector, Properties};
use serde_json::Value;

/// The contacts block's mapped fields, HubSpot name first.
pub const CONTACT_FIELDS: [(&str, &str); 4] =
    [("email", "Email"), ("firstname", "FirstName"), ("lastname", "LastName"), ("phone", "Phone")];

/// What one side of a pair holds, by record id.
pub struct Side {
    pub label: &'static str,
    pub records: BTreeMap<String, Properties>,
    /// The field no two records may share (the natural key), compared without case.
    pub unique: &'static str,
}

/// Both sides of a sync block and its links, read after the sync went quiet.
pub struct Contents {
    pub hubspot: Side,
    pub external: Side,
    pub links: Vec<(String, String)>,
    /// The mapped fields, HubSpot name first.
    pub fields: Vec<(&'static str, &'static str)>,
}

impl Contents {
    /// Panics with every disagreement found unless both sides hold `expected` records each,
    /// linked one to one, with equal mapped fields and no duplicate natural keys.
    pub fn assert_converged(&self, expected: usize) {
        let mut problems = Vec::new();
        for side in [&self.hubspot, &self.external] {
            if side.records.len() != expected {
                problems.push(format!(
                    "{} holds {} records, not {expected}",
                    side.label,
                    side.records.len()
                ));
            }
            problems.extend(duplicates(side));
        }
        if self.links.len() != expected {
            problems.push(format!("{} links, not {expected}", self.links.len()));
        }
        problems.extend(self.partner_problems());
        let shown: Vec<&String> = problems.iter().take(20).collect();
        assert!(problems.is_empty(), "{} problems, first ones: {shown:#?}", problems.len());
    }

    /// Each record's partner through the links: exactly one, present, with equal fields.
    fn partner_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let by_hubspot = count_ids(self.links.iter().map(|(h, _)| h));
        let by_external = count_ids(self.links.iter().map(|(_, e)| e));
        for (side, partners) in [(&self.hubspot, &by_hubspot), (&self.external, &by_external)] {
            for id in side.records.keys() {
                match partners.get(id.as_str()).copied().unwrap_or(0) {
                    1 => {}
                    n => problems.push(format!("{} record {id} has {n} links", side.label)),
                }
            }
        }
        for (hubspot_id, external_id) in &self.links {
            let pair =
                (self.hubspot.records.get(hubspot_id), self.external.records.get(external_id));
            match pair {
                (Some(h), Some(e)) => {
                    problems.extend(self.field_problems(hubspot_id, h, external_id, e))
                }
                _ => problems.push(format!("link {hubspot_id} ↔ {external_id} misses a record")),
            }
        }
        problems
    }

    fn field_problems(
        &self,
        hubspot_id: &str,
        h: &Properties,
        external_id: &str,
        e: &Properties,
    ) -> Vec<String> {
        self.fields
            .iter()
            .filter_map(|(hubspot_field, external_field)| {
                let left = text(h.get(*hubspot_field));
                let right = text(e.get(*external_field));
                (!same(&left, &right)).then(|| {
                    format!(
                        "{hubspot_id}.{hubspot_field} = {left:?} but {external_id}.{external_field} = {right:?}"
                    )
                })
            })
            .collect()
    }
}

fn count_ids<'a>(ids: impl Iterator<Item = &'a String>) -> HashMap<&'a str, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(id.as_str()).or_insert(0) += 1;
    }
    counts
}

/// Natural-key values held by more than one record of a side.
fn duplicates(side: &Side) -> Vec<String> {
    let mut holders: HashMap<String, Vec<&str>> = HashMap::new();
    for (id, properties) in &side.records {
        if let Some(key) = text(properties.get(side.unique)) {
            holders.entry(key.to_lowercase()).or_default().push(id);
        }
    }
    holders
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(key, ids)| {
            format!("{} has {} records with {} {key}: {ids:?}", side.label, ids.len(), side.unique)
        })
        .collect()
}

/// A field's value as text; absent, null and empty are all "no value".
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Equal values; emails and other keys may differ in case between the CRMs.
fn same(left: &Option<String>, right: &Option<String>) -> bool {
    match (left, right) {
        (Some(l), Some(r)) => l.eq_ignore_ascii_case(r),
        (None, None) => true,
        _ => false,
    }
}

/// Every live record of an object through its connector, by id.
pub async fn read_all(
    api: &Arc<dyn Connector>,
    object: &str,
    fields: &[&str],
) -> BTreeMap<String, Properties> {
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let mut records = BTreeMap::new();
    let mut page: Option<String> = None;
    loop {
        let listed = api.read_all(object, page.as_deref(), &fields).await.expect("listing works");
        records.extend(listed.records.into_iter().map(|record| (record.id, record.properties)));
        match listed.next {
            Some(next) => page = Some(next),
            None => return records,
        }
    }
}

/// The links of a sync block, oldest first.
pub async fn links(pool: &sqlx::PgPool, sync: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "select hubspot_id, external_id from hubsync.links where sync_name = $1 order by id",
    )
    .bind(sync)
    .fetch_all(pool)
    .await
    .expect("links are readable")
}

/// The contacts block's contents on HubSpot and Salesforce, through their connectors.
pub async fn contacts(
    hubspot: &Arc<dyn Connector>,
    salesforce: &Arc<dyn Connector>,
    pool: &sqlx::PgPool,
) -> Contents {
    let hubspot_fields: Vec<&str> = CONTACT_FIELDS.iter().map(|(h, _)| *h).collect();
    let external_fields: Vec<&str> = CONTACT_FIELDS.iter().map(|(_, e)| *e).collect();
    Contents {
        hubspot: Side {
            label: "HubSpot",
            records: read_all(hubspot, "contacts", &hubspot_fields).await,
            unique: "email",
        },
        external: Side {
            label: "Salesforce",
            records: read_all(salesforce, "Contact", &external_fields).await,
            unique: "Email",
        },
        links: links(pool, "contacts").await,
        fields: CONTACT_FIELDS.to_vec(),
    }
}

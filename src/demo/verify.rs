//! The demo's final check, on both simulators' current state read through the connectors:
//! every linked pair agrees on each mapped field through the rules' transforms, and every
//! record is linked or accounted for (failed, held, out of scope, deleted).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use sqlx::PgPool;

use super::DemoError;
use crate::config::{Direction, FieldMapping, Settings, SyncRule};
use crate::connector::{Connector, Properties};
use crate::rules::transform::{self, Mapped, OwnerMap, Towards};
use crate::store::read::demo;

/// At most this many unexplained problems are listed per block.
const SAMPLES: usize = 10;

/// What the check found in one `[[sync]]` block.
#[derive(Debug, Default, Clone)]
pub struct BlockCheck {
    pub block: String,
    pub pairs: usize,
    pub agreed: usize,
    /// Pairs whose disagreement is a reported conflict or failure.
    pub explained: usize,
    /// Pairs where one side no longer exists (deleted; the delete policy applies).
    pub deleted: usize,
    pub unexplained: usize,
    /// Records on neither side of a link, but failed, held or out of scope.
    pub accounted: usize,
    pub unaccounted: usize,
    pub samples: Vec<String>,
}

/// The whole check.
#[derive(Debug, Default, Clone)]
pub struct Verification {
    pub blocks: Vec<BlockCheck>,
}

impl Verification {
    /// Both sides agree, except for the conflicts and failures the demo reported.
    pub fn passed(&self) -> bool {
        self.blocks.iter().all(|b| b.unexplained == 0 && b.unaccounted == 0)
    }

    fn sum(&self, figure: impl Fn(&BlockCheck) -> usize) -> usize {
        self.blocks.iter().map(figure).sum()
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.blocks {
            writeln!(
                f,
                "  [{}] {} linked pairs: {} agree, {} differ as reported, {} deleted on one side, \
                 {} differ unexplained; unlinked: {} accounted for, {} not",
                b.block,
                b.pairs,
                b.agreed,
                b.explained,
                b.deleted,
                b.unexplained,
                b.accounted,
                b.unaccounted
            )?;
            for sample in &b.samples {
                writeln!(f, "    - {sample}")?;
            }
        }
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        write!(
            f,
            "verification {verdict}: {} agreed pairs, {} disagreements other than reported \
             conflicts and failures, {} records neither linked nor accounted for",
            self.sum(|b| b.agreed),
            self.sum(|b| b.unexplained),
            self.sum(|b| b.unaccounted)
        )
    }
}

/// Checks every block of `settings` against the simulators its connectors point at.
pub async fn run(settings: &Settings, pool: &PgPool) -> Result<Verification, DemoError> {
    let mut connectors: HashMap<String, Arc<dyn Connector>> = HashMap::new();
    for (name, connector) in &settings.connectors {
        let built = crate::connector::from_settings(name, connector, &settings.instance.id)?;
        connectors.insert(name.clone(), built);
    }
    let mut verification = Verification::default();
    let mut owners: HashMap<(String, String), OwnerMap> = HashMap::new();
    for rule in &settings.sync {
        let hubspot = &connectors[&rule.hubspot_connector];
        let external = &connectors[&rule.external_connector];
        let pair = (rule.hubspot_connector.clone(), rule.external_connector.clone());
        if !owners.contains_key(&pair) {
            owners.insert(pair.clone(), owner_map(hubspot.as_ref(), external.as_ref()).await?);
        }
        let sides = Sides {
            hubspot: read_everything(hubspot.as_ref(), &rule.hubspot_object, &hubspot_fields(rule))
                .await?,
            external: read_everything(
                external.as_ref(),
                &rule.external_object,
                &external_fields(rule),
            )
            .await?,
        };
        let known = Known::load(pool, rule).await?;
        verification.blocks.push(check_block(rule, &sides, &known, &owners[&pair]));
    }
    Ok(verification)
}

async fn owner_map(
    hubspot: &dyn Connector,
    external: &dyn Connector,
) -> Result<OwnerMap, DemoError> {
    let (hs, ext) = (hubspot.owners().await?, external.owners().await?);
    let with_email = |owners: &[crate::connector::Owner]| -> Vec<(String, String)> {
        owners.iter().filter_map(|o| Some((o.id.clone(), o.email.clone()?))).collect()
    };
    let (hs, ext) = (with_email(&hs), with_email(&ext));
    Ok(OwnerMap::by_email(
        hs.iter().map(|(id, email)| (id.as_str(), email.as_str())),
        ext.iter().map(|(id, email)| (id.as_str(), email.as_str())),
    ))
}

fn hubspot_fields(rule: &SyncRule) -> Vec<String> {
    rule.fields.iter().map(|f| f.hubspot.clone()).collect()
}

fn external_fields(rule: &SyncRule) -> Vec<String> {
    rule.fields.iter().map(|f| f.external.clone()).collect()
}

/// Every live record of `object`, by id.
async fn read_everything(
    connector: &dyn Connector,
    object: &str,
    fields: &[String],
) -> Result<BTreeMap<String, Properties>, DemoError> {
    let mut records = BTreeMap::new();
    let mut page: Option<String> = None;
    loop {
        let read = connector.read_all(object, page.as_deref(), fields).await?;
        for record in read.records.into_iter().filter(|r| !r.archived) {
            records.insert(record.id, record.properties);
        }
        match read.next {
            Some(next) => page = Some(next),
            None => return Ok(records),
        }
    }
}

struct Sides {
    hubspot: BTreeMap<String, Properties>,
    external: BTreeMap<String, Properties>,
}

/// What the database says about a block: its links, and the records the demo reported or
/// the rules put aside.
#[derive(Default)]
struct Known {
    links: Vec<(i64, String, String)>,
    /// (link id, HubSpot field) of conflicts held for an operator.
    held_fields: HashSet<(i64, String)>,
    /// Records with a failed write or change, a held conflict, or out of the filter's scope.
    put_aside: HashSet<String>,
}

impl Known {
    async fn load(pool: &PgPool, rule: &SyncRule) -> Result<Known, DemoError> {
        let mut known = Known { links: demo::links(pool, &rule.name).await?, ..Known::default() };
        let held = demo::held(pool, &rule.name).await?;
        for (link, field, hubspot_id, external_id) in held {
            if let Some(link) = link {
                known.held_fields.insert((link, field));
            }
            known.put_aside.extend(hubspot_id.into_iter().chain(external_id));
        }
        let failed = demo::failed_writes(pool, &rule.name).await?;
        known.put_aside.extend(failed.into_iter().flat_map(|(a, b)| a.into_iter().chain(b)));
        let aside = demo::put_aside(pool, &rule.hubspot_object, &rule.external_object).await?;
        known.put_aside.extend(aside.into_iter().map(|(id,)| id));
        Ok(known)
    }
}

fn check_block(rule: &SyncRule, sides: &Sides, known: &Known, owners: &OwnerMap) -> BlockCheck {
    let mut check = BlockCheck { block: rule.name.clone(), ..BlockCheck::default() };
    let (mut linked_hs, mut linked_ext) = (HashSet::new(), HashSet::new());
    for (link, hs_id, ext_id) in &known.links {
        linked_hs.insert(hs_id.as_str());
        linked_ext.insert(ext_id.as_str());
        check.pairs += 1;
        let (Some(hs), Some(ext)) = (sides.hubspot.get(hs_id), sides.external.get(ext_id)) else {
            check.deleted += 1;
            continue;
        };
        // a one-way field only follows its source: the target may hold a value of its own
        let compared =
            rule.fields.iter().filter(|f| f.direction.unwrap_or(rule.direction) == Direction::Both);
        let differing: Vec<&FieldMapping> =
            compared.filter(|f| !field_agrees(f, hs, ext, owners)).collect();
        let explained = known.put_aside.contains(hs_id)
            || known.put_aside.contains(ext_id)
            || differing.iter().all(|f| known.held_fields.contains(&(*link, f.hubspot.clone())));
        match (differing.is_empty(), explained) {
            (true, _) => check.agreed += 1,
            (false, true) => check.explained += 1,
            (false, false) => {
                check.unexplained += 1;
                let sample = disagreement(hs_id, ext_id, &differing, hs, ext);
                push_sample(&mut check.samples, sample);
            }
        }
    }
    let unlinked_hs = sides.hubspot.keys().filter(|id| !linked_hs.contains(id.as_str()));
    let unlinked_ext = sides.external.keys().filter(|id| !linked_ext.contains(id.as_str()));
    for (side, id) in
        unlinked_hs.map(|id| ("HubSpot", id)).chain(unlinked_ext.map(|id| ("Salesforce", id)))
    {
        if known.put_aside.contains(id) {
            check.accounted += 1;
        } else {
            check.unaccounted += 1;
            push_sample(&mut check.samples, format!("{side} record {id} is not linked"));
        }
    }
    check
}

fn push_sample(samples: &mut Vec<String>, sample: String) {
    if samples.len() < SAMPLES {
        samples.push(sample);
    }
}

fn disagreement(
    hs_id: &str,
    ext_id: &str,
    fields: &[&FieldMapping],
    hs: &Properties,
    ext: &Properties,
) -> String {
    let shown: Vec<String> = fields
        .iter()
        .map(|f| {
            let (a, b) = (value_of(hs, &f.hubspot), value_of(ext, &f.external));
            format!("{}={} vs {}={}", f.hubspot, a, f.external, b)
        })
        .collect();
    format!("{hs_id} / {ext_id}: {}", shown.join(", "))
}

fn value_of(properties: &Properties, field: &str) -> Value {
    properties.get(field).cloned().unwrap_or(Value::Null)
}

/// Whether the two sides hold the same value for `field`, through its transform in either
/// direction. A value the rule leaves alone (`skip_field`) counts as agreeing.
pub fn field_agrees(
    field: &FieldMapping,
    hs: &Properties,
    ext: &Properties,
    owners: &OwnerMap,
) -> bool {
    let (hs_value, ext_value) = (value_of(hs, &field.hubspot), value_of(ext, &field.external));
    let rule = field.transform.as_ref();
    let forward = transform::apply(rule, &hs_value, Towards::External, owners);
    let backward = transform::apply(rule, &ext_value, Towards::Hubspot, owners);
    [(forward, &ext_value), (backward, &hs_value)].into_iter().any(|(mapped, other)| match mapped {
        Ok(Mapped::Value(value)) => same(&value, other),
        Ok(Mapped::SkipField) => true,
        Err(_) => false,
    })
}

/// Equal as the APIs mean it: blanks are equal, numbers compare by value, the rest as text.
pub fn same(a: &Value, b: &Value) -> bool {
    if transform::is_blank(a) || transform::is_blank(b) {
        return transform::is_blank(a) && transform::is_blank(b);
    }
    let number = |v: &Value| transform::as_text(v).trim().parse::<f64>().ok();
    match (number(a), number(b)) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-6,
        _ => transform::as_text(a) == transform::as_text(b),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Transform;

    fn props(pairs: &[(&str, Value)]) -> Properties {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn mapping(hubspot: &str, external: &str, transform: Option<Transform>) -> FieldMapping {
        FieldMapping {
            hubspot: hubspot.into(),
            external: external.into(),
            direction: None,
            conflict: None,
            transform,
        }
    }

    #[test]
    fn numbers_dates_and_blanks_agree_the_way_the_apis_write_them() {
        let owners = OwnerMap::default();
        let amount = mapping("amount", "Amount", Some(Transform::Number));
        let hs = props(&[("amount", json!("1500")), ("closedate", json!("2026-03-01T00:00:00Z"))]);
        let ext = props(&[("Amount", json!(1500.0)), ("CloseDate", json!("2026-03-01"))]);
        assert!(field_agrees(&amount, &hs, &ext, &owners));
        let close = mapping("closedate", "CloseDate", Some(Transform::Date));
        assert!(field_agrees(&close, &hs, &ext, &owners));
        let phone = mapping("phone", "Phone", None);
        assert!(field_agrees(&phone, &props(&[("phone", json!(""))]), &props(&[]), &owners));
    }

    #[test]
    fn a_different_value_or_an_unknown_owner_disagrees() {
        let owners = OwnerMap::by_email([("101", "a@x.com")], [("005A", "a@x.com")]);
        let title = mapping("jobtitle", "Title", None);
        let hs = props(&[("jobtitle", json!("CEO")), ("hubspot_owner_id", json!("101"))]);
        let ext = props(&[("Title", json!("CTO")), ("OwnerId", json!("005B"))]);
        assert!(!field_agrees(&title, &hs, &ext, &owners));
        let owner = mapping("hubspot_owner_id", "OwnerId", Some(Transform::Owner));
        assert!(!field_agrees(&owner, &hs, &ext, &owners));
        let ext = props(&[("OwnerId", json!("005A"))]);
        assert!(field_agrees(&owner, &hs, &ext, &owners));
    }
}

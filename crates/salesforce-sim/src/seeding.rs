//! Creating the seed file's records at start, resolving `"@Object#N"` references.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::state::SfState;

const ORDER: &[&str] =
    &["User", "Account", "Contact", "Lead", "Opportunity", "Case", "Task", "Event"];

/// Creates every seeded record; a record Salesforce would refuse stops start-up.
pub fn seed_records(state: &SfState) -> Result<(), String> {
    let seed = &state.config.seed;
    let mut names: Vec<&String> = seed.records.keys().collect();
    names.sort_by_key(|n| {
        ORDER.iter().position(|o| o.eq_ignore_ascii_case(n)).unwrap_or(ORDER.len())
    });
    let mut created: HashMap<String, Vec<String>> = HashMap::new();
    let now = state.now();
    let actor = state.system_actor();
    let mut store = state.store();
    for name in names {
        let object = store.object(name).ok_or_else(|| format!("seed: unknown object {name}"))?;
        for (i, record) in seed.records[name].iter().enumerate() {
            let resolved = resolve(record, &created)?;
            let id = store
                .create(&object, &resolved, &actor, now)
                .map_err(|err| format!("seed: {name} record {i}: {err}"))?;
            created.entry(object.name.to_ascii_lowercase()).or_default().push(id);
        }
    }
    Ok(())
}

fn resolve(
    record: &Map<String, Value>,
    created: &HashMap<String, Vec<String>>,
) -> Result<Map<String, Value>, String> {
    let mut out = record.clone();
    for value in out.values_mut() {
        let Some(reference) = value.as_str().and_then(|s| s.strip_prefix('@')) else { continue };
        let (object, index) =
            reference.split_once('#').ok_or_else(|| format!("seed: bad reference @{reference}"))?;
        let index: usize =
            index.parse().map_err(|_| format!("seed: bad reference @{reference}"))?;
        let id = created
            .get(&object.to_ascii_lowercase())
            .and_then(|ids| ids.get(index))
            .ok_or_else(|| format!("seed: @{reference} names no earlier seeded record"))?;
        *value = Value::String(id.clone());
    }
    Ok(out)
}

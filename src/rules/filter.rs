//! Sync-rule filters: which records are in scope, as predicates on one side's properties.

use std::collections::BTreeMap;

use serde_json::Value;

use super::transform::{as_text, is_blank};
use crate::config::{Predicate, PredicateOp, Side};

/// Whether every predicate about `side` holds for `properties`. Predicates about the other
/// side are not judged here: the caller checks them against that side's record.
pub fn in_scope(filter: &[Predicate], side: Side, properties: &BTreeMap<String, Value>) -> bool {
    filter
        .iter()
        .filter(|predicate| predicate.side == side)
        .all(|predicate| holds(predicate, properties.get(&predicate.property)))
}

/// The properties a filter reads on `side`: pollers and hydration must request them.
pub fn properties_read(filter: &[Predicate], side: Side) -> Vec<String> {
    let mut names: Vec<String> =
        filter.iter().filter(|p| p.side == side).map(|p| p.property.clone()).collect();
    names.sort();
    names.dedup();
    names
}

fn holds(predicate: &Predicate, value: Option<&Value>) -> bool {
    let blank = value.is_none_or(is_blank);
    let text = value.map(as_text).unwrap_or_default();
    let listed = || predicate.values.contains(&text);
    match predicate.op {
        PredicateOp::Eq => predicate.value.as_deref() == Some(text.as_str()),
        PredicateOp::Neq => predicate.value.as_deref() != Some(text.as_str()),
        PredicateOp::In => !blank && listed(),
        PredicateOp::NotIn => blank || !listed(),
        PredicateOp::IsSet => !blank,
        PredicateOp::IsBlank => blank,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn predicate(side: Side, op: PredicateOp, value: Option<&str>, values: &[&str]) -> Predicate {
        Predicate {
            side,
            property: "lifecyclestage".into(),
            op,
            value: value.map(Into::into),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn record(stage: Value) -> BTreeMap<String, Value> {
        BTreeMap::from([("lifecyclestage".to_string(), stage)])
    }

    #[test]
    fn a_record_is_in_scope_only_when_every_predicate_on_its_side_holds() {
        let filter = [
            predicate(Side::Hubspot, PredicateOp::NotIn, None, &["other"]),
            predicate(Side::Hubspot, PredicateOp::IsSet, None, &[]),
        ];
        assert!(in_scope(&filter, Side::Hubspot, &record(json!("lead"))));
        assert!(!in_scope(&filter, Side::Hubspot, &record(json!("other"))));
        assert!(!in_scope(&filter, Side::Hubspot, &record(json!(""))), "blank is not set");
    }

    #[test]
    fn predicates_about_the_other_side_are_left_to_that_side() {
        let filter = [predicate(Side::External, PredicateOp::Eq, Some("x"), &[])];
        assert!(in_scope(&filter, Side::Hubspot, &record(json!("lead"))));
        assert!(!in_scope(&filter, Side::External, &record(json!("lead"))));
    }

    #[test]
    fn equality_compares_text_so_numbers_and_booleans_match_their_spelling() {
        let filter = [predicate(Side::External, PredicateOp::Eq, Some("true"), &[])];
        assert!(in_scope(&filter, Side::External, &record(json!(true))));
        let filter = [predicate(Side::External, PredicateOp::In, None, &["1", "2"])];
        assert!(in_scope(&filter, Side::External, &record(json!(2))));
        assert!(!in_scope(&filter, Side::External, &BTreeMap::new()), "missing is not in a list");
    }

    #[test]
    fn the_properties_a_filter_reads_are_listed_once_per_side() {
        let filter = [
            predicate(Side::Hubspot, PredicateOp::IsSet, None, &[]),
            predicate(Side::Hubspot, PredicateOp::IsBlank, None, &[]),
        ];
        assert_eq!(properties_read(&filter, Side::Hubspot), ["lifecyclestage"]);
        assert!(properties_read(&filter, Side::External).is_empty());
    }
}

//! The sync rules, the vocabulary shared below all stages. Here: reading a rule from one
//! side's point of view: which block a journal row belongs to, a field's name on each side,
//! which way it may move, the keys records are written by, and their write order.

pub mod feeds;
pub mod filter;
pub mod schema;
pub mod transform;

use crate::config::{Direction, FieldMapping, NaturalKey, Side, SyncRule, Transform};
use crate::connector::Properties;

/// Write order: records, then associations, then engagements.
pub mod priority {
    pub const OBJECTS: i16 = 0;
    pub const ASSOCIATIONS: i16 = 1;
    pub const ENGAGEMENTS: i16 = 2;
}

/// HubSpot's engagement objects: written after the records they attach to.
const ENGAGEMENTS: [&str; 5] = ["notes", "calls", "emails", "meetings", "tasks"];

/// The connector a rule uses on `side`.
pub fn connector(rule: &SyncRule, side: Side) -> &str {
    match side {
        Side::Hubspot => &rule.hubspot_connector,
        Side::External => &rule.external_connector,
    }
}

/// The object a rule syncs on `side`.
pub fn object(rule: &SyncRule, side: Side) -> &str {
    match side {
        Side::Hubspot => &rule.hubspot_object,
        Side::External => &rule.external_object,
    }
}

/// Whether a journal row of `side`, `connector` and `object` belongs to `rule`.
pub fn reads(rule: &SyncRule, side: Side, connector_name: &str, object_type: &str) -> bool {
    connector(rule, side) == connector_name && object(rule, side) == object_type
}

/// The block maps owner ids, which takes both sides' owner lists (API reads).
pub fn maps_owners(rule: &SyncRule) -> bool {
    rule.fields.iter().any(|f| matches!(f.transform, Some(crate::config::Transform::Owner)))
}

/// A mapped field's name on `side`.
pub fn field(mapping: &FieldMapping, side: Side) -> &str {
    match side {
        Side::Hubspot => &mapping.hubspot,
        Side::External => &mapping.external,
    }
}

fn allows(direction: Direction, towards: Side) -> bool {
    match direction {
        Direction::Both => true,
        Direction::ToHubspot => towards == Side::Hubspot,
        Direction::ToExternal => towards == Side::External,
    }
}

/// Whether records of the pair may be written on `towards` at all.
pub fn writes_to(rule: &SyncRule, towards: Side) -> bool {
    allows(rule.direction, towards)
}

/// Whether a field may be written on `towards`: both its own and the pair's direction allow it.
pub fn moves(rule: &SyncRule, mapping: &FieldMapping, towards: Side) -> bool {
    writes_to(rule, towards) && allows(mapping.direction.unwrap_or(rule.direction), towards)
}

/// Write priority of the pair's records.
pub fn priority(rule: &SyncRule) -> i16 {
    if ENGAGEMENTS.contains(&rule.hubspot_object.as_str()) {
        priority::ENGAGEMENTS
    } else {
        priority::OBJECTS
    }
}

/// The field on `side` that holds the other side's record id, if the rule keeps one:
/// HubSpot's unique property, or the external External ID field.
pub fn partner_id_field(rule: &SyncRule, side: Side) -> Option<&str> {
    match side {
        Side::Hubspot => rule.keys.hubspot_unique_property.as_deref(),
        Side::External => rule.keys.external_id_field.as_deref(),
    }
}

/// How a record from `source_id` with `properties` is created on `target`: the unique field
/// and its value, upserted so that a retried create cannot duplicate.
pub fn create_key(
    rule: &SyncRule,
    target: Side,
    source_id: &str,
    properties: &Properties,
) -> Option<(String, String)> {
    if let Some(field) = partner_id_field(rule, target) {
        return Some((field.to_string(), source_id.to_string()));
    }
    let shared = rule.keys.shared.as_ref()?;
    let (source_field, target_field) = match target {
        Side::Hubspot => (&shared.external, &shared.hubspot),
        Side::External => (&shared.hubspot, &shared.external),
    };
    let value = get(properties, source_field).map(transform::as_text)?;
    (!value.is_empty()).then(|| (target_field.clone(), value))
}

/// The natural keys the rule matches on, as `(field on side, field on the other side)`.
pub fn natural_keys(rule: &SyncRule, side: Side) -> Vec<(String, String)> {
    rule.match_on
        .iter()
        .filter_map(|key| {
            let hubspot = match key {
                NaturalKey::Email => "email",
                NaturalKey::Domain => "domain",
            };
            let mapping = rule.fields.iter().find(|m| m.hubspot.eq_ignore_ascii_case(hubspot))?;
            Some((field(mapping, side).to_string(), field(mapping, side.other()).to_string()))
        })
        .collect()
}

/// A property by name; Salesforce field names are case-insensitive.
pub fn get<'a>(properties: &'a Properties, name: &str) -> Option<&'a serde_json::Value> {
    properties
        .get(name)
        .or_else(|| properties.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// A constant is written on creates only; it says nothing about the other side's value.
pub fn is_constant(mapping: &FieldMapping) -> bool {
    matches!(mapping.transform, Some(Transform::Constant { .. }))
}

/// The record_state field name of an association pseudo-field.
pub fn association_field(to_sync: &str) -> String {
    format!("@{to_sync}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(direction: Direction) -> SyncRule {
        let toml = format!(
            r#"name = "contacts"
            hubspot_object = "contacts"
            external_connector = "salesforce"
            external_object = "Contact"
            direction = "{}"
            match_on = ["email"]
            keys = {{ hubspot_unique_property = "salesforce_id", external_id_field = "HubSpot_Id__c" }}
            fields = [
              {{ hubspot = "email", external = "Email" }},
              {{ hubspot = "phone", external = "Phone", direction = "to_hubspot" }},
            ]"#,
            match direction {
                Direction::Both => "both",
                Direction::ToHubspot => "to_hubspot",
                Direction::ToExternal => "to_external",
            }
        );
        toml::from_str(&toml).expect("rule parses")
    }

    #[test]
    fn a_field_moves_only_where_both_its_own_and_the_pairs_direction_allow() {
        let both = rule(Direction::Both);
        assert!(moves(&both, &both.fields[0], Side::External));
        assert!(!moves(&both, &both.fields[1], Side::External));
        assert!(moves(&both, &both.fields[1], Side::Hubspot));
        let one_way = rule(Direction::ToExternal);
        assert!(!moves(&one_way, &one_way.fields[1], Side::Hubspot));
    }

    #[test]
    fn records_are_created_by_the_key_that_holds_the_source_id() {
        let rule = rule(Direction::Both);
        let none = Properties::new();
        assert_eq!(
            create_key(&rule, Side::External, "101", &none),
            Some(("HubSpot_Id__c".into(), "101".into()))
        );
        assert_eq!(
            create_key(&rule, Side::Hubspot, "003A", &none),
            Some(("salesforce_id".into(), "003A".into()))
        );
    }

    #[test]
    fn natural_keys_pair_the_mapped_fields_of_both_sides() {
        let rule = rule(Direction::Both);
        assert_eq!(natural_keys(&rule, Side::External), [("Email".into(), "email".into())]);
    }
}

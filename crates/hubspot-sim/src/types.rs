//! The object types the simulator serves: HubSpot's standard objects and custom objects,
//! and how a path segment (`contacts`, `contact`, `0-1`, `p123_vendor`, `p_vendor`) names one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One object type and the facts about it that HubSpot hard-codes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectType {
    /// `0-1`, `2-123456`.
    pub type_id: String,
    /// Plural path name: `contacts`, `line_items`; for custom objects the schema name.
    pub name: String,
    /// Singular, used in webhook subscription types and association names: `contact`.
    pub singular: String,
    /// `p{portal}_{name}` for custom objects.
    pub fully_qualified_name: Option<String>,
    pub created_property: String,
    pub modified_property: String,
    pub required: Vec<String>,
    /// Properties returned when a read names none.
    pub default_properties: Vec<String>,
    /// Properties a search's free-text `query` looks in.
    pub query_properties: Vec<String>,
    pub custom: bool,
    /// Legacy per-object webhook subscription types exist (`contact.creation`).
    pub legacy_webhooks: bool,
}

struct Standard {
    type_id: &'static str,
    name: &'static str,
    singular: &'static str,
    required: &'static [&'static str],
    defaults: &'static [&'static str],
    query: &'static [&'static str],
}

const ENGAGEMENT_DEFAULTS: &[&str] = &["hs_timestamp"];

const STANDARD: &[Standard] = &[
    Standard {
        type_id: "0-1",
        name: "contacts",
        singular: "contact",
        required: &[],
        defaults: &["firstname", "lastname", "email"],
        query: &["firstname", "lastname", "email", "phone", "hs_additional_emails", "company"],
    },
    Standard {
        type_id: "0-2",
        name: "companies",
        singular: "company",
        required: &[],
        defaults: &["name", "domain"],
        query: &["website", "phone", "name", "domain"],
    },
    Standard {
        type_id: "0-3",
        name: "deals",
        singular: "deal",
        required: &["dealname", "dealstage", "pipeline"],
        defaults: &["dealname", "amount", "closedate", "pipeline", "dealstage"],
        query: &["dealname", "pipeline", "dealstage", "description", "dealtype"],
    },
    Standard {
        type_id: "0-5",
        name: "tickets",
        singular: "ticket",
        required: &["subject", "hs_pipeline_stage", "hs_pipeline"],
        defaults: &[
            "content",
            "hs_pipeline",
            "hs_pipeline_stage",
            "hs_ticket_category",
            "hs_ticket_priority",
            "subject",
        ],
        query: &["subject", "content", "hs_pipeline_stage", "hs_ticket_category"],
    },
    Standard {
        type_id: "0-7",
        name: "products",
        singular: "product",
        // The fact sheet's §4 table: `hs_sku, hs_folder, price, name, description`.
        required: &["hs_sku", "hs_folder", "price", "name", "description"],
        defaults: &["name", "description", "price"],
        query: &["name", "description", "hs_sku"],
    },
    Standard {
        type_id: "0-8",
        name: "line_items",
        singular: "line_item",
        required: &[],
        defaults: &["name", "quantity", "price"],
        query: &["name"],
    },
    Standard {
        type_id: "0-27",
        name: "tasks",
        singular: "task",
        required: &["hs_timestamp"],
        defaults: ENGAGEMENT_DEFAULTS,
        query: &["hs_task_body", "hs_task_subject"],
    },
    Standard {
        type_id: "0-46",
        name: "notes",
        singular: "note",
        required: &["hs_timestamp"],
        defaults: ENGAGEMENT_DEFAULTS,
        query: &["hs_note_body"],
    },
    Standard {
        type_id: "0-47",
        name: "meetings",
        singular: "meeting",
        required: &["hs_timestamp"],
        defaults: ENGAGEMENT_DEFAULTS,
        query: &["hs_meeting_title", "hs_meeting_body"],
    },
    Standard {
        type_id: "0-48",
        name: "calls",
        singular: "call",
        required: &["hs_timestamp"],
        defaults: ENGAGEMENT_DEFAULTS,
        query: &["hs_call_title", "hs_call_body"],
    },
    Standard {
        type_id: "0-49",
        name: "emails",
        singular: "email",
        required: &["hs_timestamp", "hs_email_direction"],
        defaults: ENGAGEMENT_DEFAULTS,
        query: &["hs_email_subject", "hs_email_text"],
    },
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl ObjectType {
    fn standard(def: &Standard) -> Self {
        let contacts = def.type_id == "0-1";
        let engagement = ["0-27", "0-46", "0-47", "0-48", "0-49"].contains(&def.type_id);
        let (created, modified) = match (contacts, engagement) {
            (true, _) => ("createdate", "lastmodifieddate"),
            (false, true) => ("hs_createdate", "hs_lastmodifieddate"),
            (false, false) => ("createdate", "hs_lastmodifieddate"),
        };
        ObjectType {
            type_id: def.type_id.into(),
            name: def.name.into(),
            singular: def.singular.into(),
            fully_qualified_name: None,
            created_property: created.into(),
            modified_property: modified.into(),
            required: strings(def.required),
            default_properties: strings(def.defaults),
            query_properties: strings(def.query),
            custom: false,
            legacy_webhooks: !engagement,
        }
    }

    /// A custom object type from a schema.
    pub fn custom(type_id: String, name: String, portal_id: u64, required: Vec<String>) -> Self {
        ObjectType {
            fully_qualified_name: Some(format!("p{portal_id}_{name}")),
            type_id,
            singular: name.clone(),
            name,
            created_property: "hs_createdate".into(),
            modified_property: "hs_lastmodifieddate".into(),
            required,
            default_properties: Vec::new(),
            query_properties: Vec::new(),
            custom: true,
            legacy_webhooks: false,
        }
    }

    /// Upper-case singular, as in `CONTACT_TO_COMPANY` and batch error messages.
    pub fn upper(&self) -> String {
        self.singular.to_uppercase()
    }

    /// The properties every read returns besides those asked for.
    pub fn always_returned(&self) -> [&str; 3] {
        ["hs_object_id", &self.created_property, &self.modified_property]
    }
}

/// Every object type of the portal, standard and custom.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypeRegistry {
    types: BTreeMap<String, ObjectType>,
}

impl TypeRegistry {
    pub fn standard() -> Self {
        let types = STANDARD.iter().map(|d| (d.type_id.to_string(), ObjectType::standard(d)));
        TypeRegistry { types: types.collect() }
    }

    pub fn add(&mut self, object_type: ObjectType) {
        self.types.insert(object_type.type_id.clone(), object_type);
    }

    pub fn remove(&mut self, type_id: &str) {
        self.types.remove(type_id);
    }

    pub fn get(&self, type_id: &str) -> Option<&ObjectType> {
        self.types.get(type_id)
    }

    pub fn all(&self) -> impl Iterator<Item = &ObjectType> {
        self.types.values()
    }

    /// The type a path segment names, in any of HubSpot's accepted spellings.
    pub fn resolve(&self, segment: &str) -> Option<&ObjectType> {
        let lower = segment.to_ascii_lowercase();
        self.types.get(segment).or_else(|| {
            self.types.values().find(|t| {
                if t.custom {
                    let fqn = t.fully_qualified_name.as_deref();
                    fqn == Some(lower.as_str()) || lower == format!("p_{}", t.name)
                } else {
                    t.name == lower || t.singular == lower
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_resolve_by_name_singular_and_id() {
        let registry = TypeRegistry::standard();
        assert_eq!(registry.resolve("contacts").unwrap().type_id, "0-1");
        assert_eq!(registry.resolve("contact").unwrap().type_id, "0-1");
        assert_eq!(registry.resolve("0-3").unwrap().name, "deals");
        assert_eq!(registry.resolve("notes").unwrap().modified_property, "hs_lastmodifieddate");
        assert!(registry.resolve("vendor").is_none());
    }

    #[test]
    fn each_standard_type_requires_the_fact_sheets_properties_on_create() {
        let registry = TypeRegistry::standard();
        let required = |name: &str| registry.resolve(name).unwrap().required.clone();
        assert!(required("contacts").is_empty());
        assert_eq!(required("deals"), ["dealname", "dealstage", "pipeline"]);
        assert_eq!(required("tickets"), ["subject", "hs_pipeline_stage", "hs_pipeline"]);
        assert_eq!(required("products"), ["hs_sku", "hs_folder", "price", "name", "description"]);
        assert!(required("line_items").is_empty());
        assert_eq!(required("emails"), ["hs_timestamp", "hs_email_direction"]);
        for engagement in ["tasks", "notes", "meetings", "calls"] {
            assert_eq!(required(engagement), ["hs_timestamp"], "{engagement}");
        }
    }

    #[test]
    fn custom_objects_resolve_by_qualified_and_short_name_only() {
        let mut registry = TypeRegistry::standard();
        registry.add(ObjectType::custom("2-7".into(), "vendor".into(), 42, vec![]));
        assert_eq!(registry.resolve("p42_vendor").unwrap().type_id, "2-7");
        assert_eq!(registry.resolve("p_vendor").unwrap().type_id, "2-7");
        assert_eq!(registry.resolve("2-7").unwrap().name, "vendor");
        assert!(registry.resolve("vendor").is_none());
    }
}

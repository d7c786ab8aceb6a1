//! The portal's in-memory state: records per object type with their id and unique-value
//! indexes, merged-id aliases, property definitions, owners and schemas.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::associations::Associations;
use super::defaults;
use super::error::{ApiError, ApiResult};
use super::events::Change;
use super::properties::PropertyDef;
use super::search_index::SearchIndex;
use super::types::{ObjectType, TypeRegistry};

/// One entry of a property's history, newest first in [`Record::history`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub value: String,
    pub timestamp: i64,
    pub source_type: String,
    pub source_id: Option<String>,
    pub updated_by_user_id: Option<u64>,
}

/// A record. Empty values are not stored: absent means empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub id: u64,
    pub properties: HashMap<String, String>,
    pub history: HashMap<String, Vec<HistoryEntry>>,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
}

impl Record {
    pub fn archived(&self) -> bool {
        self.archived_at.is_some()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }
}

/// Who made a change, as property history and webhook `changeSource` record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub source_type: String,
    pub source_id: Option<String>,
    pub user_id: Option<u64>,
}

impl Source {
    /// A write through the API by the app with this id.
    pub fn api(app_id: u64) -> Self {
        Source { source_type: "API".into(), source_id: Some(app_id.to_string()), user_id: None }
    }

    /// An edit in HubSpot's UI by this user.
    pub fn user(user_id: u64) -> Self {
        Source {
            source_type: "CRM_UI".into(),
            source_id: Some(format!("userId:{user_id}")),
            user_id: Some(user_id),
        }
    }
}

/// A property group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyGroup {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub display_order: i64,
    #[serde(default)]
    pub archived: bool,
}

/// The records and definitions of one object type.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectTable {
    pub records: BTreeMap<u64, Record>,
    /// Merged-away id → the id it now resolves to.
    pub aliases: HashMap<u64, u64>,
    /// Unique property → normalised value → record id.
    pub unique: HashMap<String, HashMap<String, u64>>,
    pub properties: BTreeMap<String, PropertyDef>,
    pub groups: BTreeMap<String, PropertyGroup>,
}

impl ObjectTable {
    pub fn with_properties(defs: Vec<PropertyDef>, group: &str) -> Self {
        let mut table = ObjectTable::default();
        let label = group.to_string();
        table.groups.insert(
            group.into(),
            PropertyGroup { name: group.into(), label, display_order: -1, archived: false },
        );
        for def in defs {
            table.properties.insert(def.name.clone(), def);
        }
        table
    }

    /// The id an id resolves to, following merges.
    pub fn resolve(&self, id: u64) -> Option<u64> {
        let mut current = id;
        for _ in 0..64 {
            if self.records.contains_key(&current) {
                return Some(current);
            }
            current = *self.aliases.get(&current)?;
        }
        None
    }

    /// Properties whose values identify a record: `hasUniqueValue` ones, plus `email`.
    pub fn is_unique(&self, type_id: &str, name: &str) -> bool {
        (type_id == "0-1" && name == "email")
            || self.properties.get(name).is_some_and(|d| d.has_unique_value && !d.archived)
    }
}

/// The key a unique value is indexed under: emails are case-insensitive.
pub fn unique_key(name: &str, value: &str) -> String {
    if name == "email" { value.to_lowercase() } else { value.to_string() }
}

/// Schema metadata of a custom object (its properties live in its [`ObjectTable`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaMeta {
    pub id: String,
    pub labels: Value,
    pub primary_display_property: Option<String>,
    pub secondary_display_properties: Vec<String>,
    pub searchable_properties: Vec<String>,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived: bool,
}

/// The whole portal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Store {
    pub portal_id: u64,
    pub next_id: u64,
    pub next_schema_id: u64,
    pub types: TypeRegistry,
    pub tables: HashMap<String, ObjectTable>,
    pub associations: Associations,
    pub owners: Vec<Value>,
    pub schemas: BTreeMap<String, SchemaMeta>,
    /// Emails erased by GDPR delete; they cannot be used again.
    pub blocked_emails: HashSet<String>,
    #[serde(skip)]
    pub search: SearchIndex,
    #[serde(skip)]
    pub changes: Vec<Change>,
    /// Whether anyone listens for changes (webhook subscriptions); if not, none are kept.
    #[serde(skip)]
    pub record_changes: bool,
}

impl Store {
    pub fn new(portal_id: u64) -> Self {
        let types = TypeRegistry::standard();
        let mut tables = HashMap::new();
        for t in types.all() {
            let defs =
                defaults::defaults_for(&t.type_id, &t.created_property, &t.modified_property);
            tables.insert(
                t.type_id.clone(),
                ObjectTable::with_properties(defs, defaults::group_of(&t.type_id)),
            );
        }
        Store {
            portal_id,
            next_id: 1001,
            next_schema_id: 1_000_001,
            types,
            tables,
            associations: Associations::default(),
            owners: Vec::new(),
            schemas: BTreeMap::new(),
            blocked_emails: HashSet::new(),
            search: SearchIndex::default(),
            changes: Vec::new(),
            record_changes: false,
        }
    }

    pub fn mint_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The object type a path segment names, or HubSpot's 400.
    pub fn object_type(&self, segment: &str) -> ApiResult<ObjectType> {
        self.types.resolve(segment).cloned().ok_or_else(|| ApiError::unknown_type(segment))
    }

    pub fn table(&self, type_id: &str) -> &ObjectTable {
        self.tables.get(type_id).expect("every registered type has a table")
    }

    pub fn table_mut(&mut self, type_id: &str) -> &mut ObjectTable {
        self.tables.entry(type_id.to_string()).or_default()
    }

    /// A live or archived record by (possibly merged-away) id.
    pub fn record(&self, type_id: &str, id: u64) -> Option<&Record> {
        let table = self.table(type_id);
        table.resolve(id).and_then(|id| table.records.get(&id))
    }

    /// Finds a record id by record id (`id_property` none or `hs_object_id`) or by the
    /// value of a unique property.
    pub fn find(
        &self,
        object: &ObjectType,
        id_property: Option<&str>,
        value: &str,
    ) -> ApiResult<Option<u64>> {
        let table = self.table(&object.type_id);
        match id_property {
            None | Some("hs_object_id") => Ok(value.parse().ok().and_then(|id| table.resolve(id))),
            Some(name) if table.is_unique(&object.type_id, name) => Ok(table
                .unique
                .get(name)
                .and_then(|index| index.get(&unique_key(name, value)))
                .and_then(|id| table.resolve(*id))),
            Some(name) => Err(ApiError::validation(format!(
                "{name} is not a unique identifier property for {}; use a property with \
                 hasUniqueValue",
                object.name
            ))),
        }
    }

    /// Queues a change for webhook subscribers, if there are any.
    pub fn note(&mut self, change: Change) {
        if self.record_changes {
            self.changes.push(change);
        }
    }

    /// Makes every record visible to search at once, e.g. after loading saved state.
    pub fn rebuild_search(&mut self) {
        let mut index = SearchIndex::default();
        for (type_id, table) in &self.tables {
            let modified = self.types.resolve(type_id).map(|t| t.modified_property.as_str());
            for record in table.records.values() {
                index.stage(type_id, record, modified, i64::MIN);
            }
        }
        index.catch_up(i64::MIN);
        self.search = index;
    }
}

//! Sync rules: one `[[sync]]` block per object pair, saying what moves, which way, and who wins.

use serde::{Deserialize, Serialize};

use super::tagged::{Tagged, TaggedBy};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRule {
    /// Names the pair in links, logs and operator commands, e.g. `contacts`.
    pub name: String,
    /// The HubSpot connector; `hubspot` unless several portals are configured.
    #[serde(default = "default_hubspot_connector")]
    pub hubspot_connector: String,
    pub hubspot_object: String,
    /// The other side: a Salesforce org or a second HubSpot portal.
    pub external_connector: String,
    pub external_object: String,
    #[serde(default)]
    pub direction: Direction,
    pub keys: SyncKeys,
    /// Natural keys tried after the unique keys, before creating a record.
    #[serde(default)]
    pub match_on: Vec<NaturalKey>,
    #[serde(default)]
    pub conflict: ConflictPolicy,
    #[serde(default)]
    pub delete: DeletePolicy,
    /// What a HubSpot privacy deletion (GDPR) does to the partner and hubsync's copies.
    #[serde(default)]
    pub privacy_deletion: PrivacyPolicy,
    /// Records are in scope only when every predicate holds.
    #[serde(default)]
    pub filter: Vec<Predicate>,
    #[serde(default)]
    pub fields: Vec<FieldMapping>,
    #[serde(default)]
    pub associations: Vec<AssociationRule>,
    /// Notes, calls, emails, meetings and tasks attached to these records.
    #[serde(default)]
    pub engagements: bool,
}

/// How records of the two sides find each other.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyncKeys {
    /// A HubSpot property with `hasUniqueValue` that holds the external record's id.
    #[serde(default)]
    pub hubspot_unique_property: Option<String>,
    /// An External ID field on the external object that holds HubSpot's `hs_object_id`.
    #[serde(default)]
    pub external_id_field: Option<String>,
    /// A business key present on both sides instead, e.g. an ERP customer number.
    #[serde(default)]
    pub shared: Option<SharedKey>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SharedKey {
    pub hubspot: String,
    pub external: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Both,
    ToHubspot,
    ToExternal,
}

impl Direction {
    /// Whether a field with this direction can move inside a pair with `pair` direction.
    pub fn fits_within(self, pair: Direction) -> bool {
        pair == Direction::Both || self == pair
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NaturalKey {
    /// Contact email.
    Email,
    /// Company domain.
    Domain,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    #[default]
    NewestWins,
    PreferHubspot,
    PreferExternal,
    PreferHubspotUnlessBlank,
    PreferExternalUnlessBlank,
    /// Keep both values and wait for an operator.
    Hold,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletePolicy {
    Propagate,
    Ignore,
    #[default]
    Flag,
}

/// What a HubSpot privacy deletion does: the person asked to be forgotten.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyPolicy {
    /// Blank the partner's mapped fields (a placeholder where its CRM requires a value),
    /// unlink the pair, and blank the values of both records in the journal and outbox.
    #[default]
    Scrub,
    /// Delete the partner, and blank hubsync's copies as `scrub` does.
    Delete,
    /// Touch nothing; journal it for an operator.
    Flag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Hubspot,
    External,
}

impl Side {
    /// `hubspot` or `external`, as the journal, metrics and the CLI spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Hubspot => "hubspot",
            Side::External => "external",
        }
    }

    /// The side across the pair.
    pub fn other(self) -> Side {
        match self {
            Side::Hubspot => Side::External,
            Side::External => Side::Hubspot,
        }
    }

    pub fn parse(text: &str) -> Option<Side> {
        [Side::Hubspot, Side::External].into_iter().find(|side| side.as_str() == text)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    pub side: Side,
    pub property: String,
    pub op: PredicateOp,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PredicateOp {
    Eq,
    Neq,
    In,
    NotIn,
    IsSet,
    IsBlank,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    pub hubspot: String,
    pub external: String,
    /// Defaults to the pair's direction.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// Overrides the pair's conflict policy for this field.
    #[serde(default)]
    pub conflict: Option<ConflictPolicy>,
    #[serde(default)]
    pub transform: Option<Transform>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", from = "Tagged<TransformType>")]
pub enum Transform {
    /// Picklist and enumeration values, pair by pair.
    ValueMap {
        values: Vec<ValuePair>,
        unmapped: UnmappedPolicy,
        /// Used for unmapped values when `unmapped = "default"`: `[hubspot, external]`.
        default: Option<ValuePair>,
    },
    /// HubSpot owner id ↔ Salesforce user id, matched by email through the owners API.
    Owner,
    Number,
    Bool,
    Date,
    Datetime,
    /// HubSpot `a;b` multi-checkbox ↔ Salesforce multi-select picklist.
    MultiSelect,
    /// Always writes this value to the target.
    Constant {
        value: String,
    },
}

/// [`Transform`] as read from config, where `type` names the variant. A variant without
/// fields is an empty table here, so a stray key in it is refused.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum TransformType {
    ValueMap {
        values: Vec<ValuePair>,
        #[serde(default)]
        unmapped: UnmappedPolicy,
        #[serde(default)]
        default: Option<ValuePair>,
    },
    Owner {},
    Number {},
    Bool {},
    Date {},
    Datetime {},
    MultiSelect {},
    Constant {
        value: String,
    },
}

impl TaggedBy for TransformType {
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] =
        &["value_map", "owner", "number", "bool", "date", "datetime", "multi_select", "constant"];
}

impl From<Tagged<TransformType>> for Transform {
    fn from(Tagged(kind): Tagged<TransformType>) -> Self {
        match kind {
            TransformType::ValueMap { values, unmapped, default } => {
                Transform::ValueMap { values, unmapped, default }
            }
            TransformType::Owner {} => Transform::Owner,
            TransformType::Number {} => Transform::Number,
            TransformType::Bool {} => Transform::Bool,
            TransformType::Date {} => Transform::Date,
            TransformType::Datetime {} => Transform::Datetime,
            TransformType::MultiSelect {} => Transform::MultiSelect,
            TransformType::Constant { value } => Transform::Constant { value },
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ValuePair {
    pub hubspot: String,
    pub external: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmappedPolicy {
    #[default]
    Fail,
    SkipField,
    Default,
}

/// An association carried with the records, e.g. contact→company as `Contact.AccountId`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AssociationRule {
    /// The `[[sync]]` block of the associated records.
    pub to: String,
    /// HubSpot association type id; HubSpot's default for the pair when omitted.
    #[serde(default)]
    pub hubspot_type_id: Option<u32>,
    /// The external lookup field that holds the associated record's id.
    pub external_field: String,
}

fn default_hubspot_connector() -> String {
    "hubspot".into()
}

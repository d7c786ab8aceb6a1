//! How a Salesforce simulator is set up: credentials, limits, timeouts, the switches for
//! behaviour the fact sheet leaves unconfirmed, and the seed file.

use std::collections::HashMap;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::schema::{CustomField, CustomObject};

/// Everything a simulator starts from. `Default` is a strict simulator with the CLI's
/// default credentials and a Developer Edition's daily allocation.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub client_id: String,
    pub client_secret: String,
    /// PEM of the X.509 certificate JWT bearer assertions must be signed for; without one
    /// the JWT bearer grant is refused.
    pub jwt_certificate_pem: Option<String>,
    /// How long an access token lives (Salesforce's default session timeout is 2 hours).
    pub session_timeout: Duration,
    /// UNCONFIRMED in the fact sheet: whether use extends a session. Strict default: no.
    pub session_extends_on_activity: bool,
    /// UNCONFIRMED: clock skew allowed on a JWT's `exp`. Strict default: none.
    pub jwt_clock_skew: Duration,
    /// Daily API requests (rolling 24 hours); past it, 403 `REQUEST_LIMIT_EXCEEDED`.
    pub daily_api_limit: u64,
    /// UNCONFIRMED: whether a data-API call refused before the allocation is checked (a 401,
    /// a 404 for a malformed version, an injected fault) counts against the daily
    /// allocation. Strict default: it does. Either way the answer carries
    /// `Sforce-Limit-Info`. A 404 for an unknown resource under a valid session always counts.
    pub count_refused_calls: bool,
    /// Collections need v42.0 and collection upserts v46.0, as on Salesforce; older
    /// versions get 404. Strict default: enforced.
    pub enforce_version_gates: bool,
    /// How long deleted records stay in the recycle bin (UNCONFIRMED: ~15 days).
    pub recycle_bin_retention: Duration,
    /// Most ids `updated`/`deleted` return before `EXCEEDED_ID_LIMIT`.
    pub replication_id_limit: usize,
    /// `ORDER BY f DESC` without `NULLS FIRST|LAST`: the SOQL reference says "by default,
    /// null values are sorted first" whatever the direction, so that is the default; on,
    /// nulls sort last when descending (as SQL databases do).
    pub descending_nulls_last: bool,
    /// UNCONFIRMED: the status of `ENTITY_IS_DELETED` (reading, writing or deleting a record
    /// in the recycle bin). Default 404; the fact sheet also names 400.
    pub entity_is_deleted_status: DeletedStatus,
    /// UNCONFIRMED: the answer to PATCH or DELETE of a well-formed but unknown Id. Default
    /// 404 `NOT_FOUND`; a third-party emulator answers 400 `INVALID_CROSS_REFERENCE_KEY`.
    pub unknown_id_on_write: UnknownIdOnWrite,
    /// UNCONFIRMED: the answer to an upsert with `?updateOnly=true` that matches no record.
    /// Default 404 `NOT_FOUND`, as an update of a missing record answers; the alternative is
    /// 400 `INVALID_CROSS_REFERENCE_KEY`, the answer a third-party emulator gives a write to
    /// a record that does not exist.
    pub update_only_miss: UpdateOnlyMiss,
    /// UNCONFIRMED: the body of the 300 Multiple Choices answer when an external id matches
    /// several records. Default: an array of record URLs, as the fact sheet has it; the
    /// alternative is the "list of matching records" of the REST status-code table, each
    /// with its `attributes` and `Id`.
    pub multiple_choices_body: MultipleChoicesBody,
    /// UNCONFIRMED: which of Opportunity's `Name`, `StageName` and `CloseDate` must be given
    /// on create. Default: all three; relaxed, only `Name`, the name field every object
    /// requires.
    pub opportunity_required: OpportunityRequired,
    /// The precision of `SystemModstamp`, `LastModifiedDate`, `CreatedDate` and deletion
    /// times. Salesforce returns datetimes as `…:SS.000+0000`, so the default is whole
    /// seconds (stricter: writes in one second tie, as pollers must handle).
    pub datetime_precision: DatetimePrecision,
    /// Serve HTTPS with a self-signed certificate made at start.
    pub tls: bool,
    /// Serve the org's data API on a second listener (its "My Domain" host), named by the
    /// token response's `instance_url`; the login URL then serves only the token endpoint.
    /// Plain HTTP only.
    pub separate_instance: bool,
    pub seed: Seed,
}

/// The HTTP status `ENTITY_IS_DELETED` answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeletedStatus {
    BadRequest,
    #[default]
    NotFound,
}

/// What PATCH or DELETE of an unknown, well-formed Id answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownIdOnWrite {
    /// 404 `NOT_FOUND`.
    #[default]
    NotFound,
    /// 400 `INVALID_CROSS_REFERENCE_KEY`.
    InvalidCrossReferenceKey,
}

/// What an `updateOnly` upsert that matches no record answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateOnlyMiss {
    /// 404 `NOT_FOUND`.
    #[default]
    NotFound,
    /// 400 `INVALID_CROSS_REFERENCE_KEY`.
    InvalidCrossReferenceKey,
}

/// The body of a 300 Multiple Choices answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MultipleChoicesBody {
    /// `["/services/data/v59.0/sobjects/Account/001…", …]`.
    #[default]
    RecordUrls,
    /// `[{"attributes": {"type": "Account", "url": "…"}, "Id": "001…"}, …]`.
    Records,
}

/// The Opportunity fields a create must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpportunityRequired {
    /// `Name`, `StageName` and `CloseDate`.
    #[default]
    NameStageAndCloseDate,
    /// Only `Name`; `StageName` and `CloseDate` may be left empty.
    NameOnly,
}

/// How finely the simulator stamps record datetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DatetimePrecision {
    /// `2024-05-01T10:00:07.000+0000`, as Salesforce.
    #[default]
    Seconds,
    /// `2024-05-01T10:00:07.123+0000`: no ties between writes a millisecond apart.
    Milliseconds,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            jwt_certificate_pem: None,
            session_timeout: Duration::hours(2),
            session_extends_on_activity: false,
            jwt_clock_skew: Duration::zero(),
            daily_api_limit: 15_000,
            count_refused_calls: true,
            enforce_version_gates: true,
            recycle_bin_retention: Duration::days(15),
            replication_id_limit: 600_000,
            descending_nulls_last: false,
            entity_is_deleted_status: DeletedStatus::default(),
            unknown_id_on_write: UnknownIdOnWrite::default(),
            update_only_miss: UpdateOnlyMiss::default(),
            multiple_choices_body: MultipleChoicesBody::default(),
            opportunity_required: OpportunityRequired::default(),
            datetime_precision: DatetimePrecision::default(),
            tls: false,
            separate_instance: false,
            seed: Seed::default(),
        }
    }
}

/// The seed file (`--seed FILE`, JSON): custom objects, custom fields on any object, and
/// records to create at start, in order. Example:
///
/// ```json
/// {
///   "customObjects": [
///     {"name": "Foo__c", "fields": [{"name": "Ext__c", "type": "string", "externalId": true}]}
///   ],
///   "customFields": {
///     "Contact": [{"name": "HubSpot_Id__c", "type": "string", "externalId": true, "unique": true}]
///   },
///   "records": {
///     "Account": [{"Name": "Acme"}],
///     "Contact": [{"LastName": "Ng", "AccountId": "@Account#0"}]
///   }
/// }
/// ```
///
/// Field `type`s are describe's names (`string`, `textarea`, `email`, `phone`, `url`,
/// `picklist`, `multipicklist`, `boolean`, `int`, `double`, `currency`, `percent`, `date`,
/// `datetime`, `reference`); a field may also set `label`, `length`, `required`, `unique`,
/// `picklistValues`, `restricted`, `referenceTo` and `createOnly` (set on create only). In
/// records, `"@Object#N"` stands for the id of the N-th seeded record of that object
/// (objects are seeded in the order User, Account, Contact, Lead, Opportunity, Case, Task,
/// Event, then custom objects). Seeded records may set audit fields (`CreatedDate`,
/// `LastModifiedDate`, `SystemModstamp`; one left out is stamped with the clock), in
/// Salesforce's order `CreatedDate <= LastModifiedDate <= SystemModstamp`: a record out of
/// that order stops start-up with `FIELD_INTEGRITY_EXCEPTION` naming it and the fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub custom_objects: Vec<CustomObject>,
    #[serde(default)]
    pub custom_fields: HashMap<String, Vec<CustomField>>,
    #[serde(default)]
    pub records: HashMap<String, Vec<Map<String, Value>>>,
}

impl Seed {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Adds a custom field to `object`, for tests building a seed in code.
    pub fn with_field(mut self, object: &str, field: CustomField) -> Self {
        self.custom_fields.entry(object.to_string()).or_default().push(field);
        self
    }

    /// An External ID text field `name` on `object`, unique when `unique`.
    pub fn with_external_id(self, object: &str, name: &str, unique: bool) -> Self {
        let field = CustomField::text(name).external_id(unique);
        self.with_field(object, field)
    }
}

impl CustomField {
    /// A nillable text field of 255 characters.
    pub fn text(name: &str) -> Self {
        CustomField {
            name: name.to_string(),
            kind: super::schema::FieldType::String,
            label: None,
            length: None,
            required: false,
            external_id: false,
            unique: false,
            picklist_values: Vec::new(),
            restricted: false,
            reference_to: Vec::new(),
            create_only: false,
        }
    }

    /// Createable but not updateable.
    pub fn create_only(mut self) -> Self {
        self.create_only = true;
        self
    }

    pub fn external_id(mut self, unique: bool) -> Self {
        self.external_id = true;
        self.unique = unique;
        self
    }
}

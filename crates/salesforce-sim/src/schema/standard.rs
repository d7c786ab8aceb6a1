//! The standard objects a HubSpot migration touches, with the fields a sync maps.

use super::{ECHO_FIELD, FieldDef, FieldType as T, ObjectDef};
use crate::config::OpportunityRequired;

/// Fields every object has, set by the system.
pub(super) fn system_fields(mergeable: bool) -> Vec<FieldDef> {
    let mut fields =
        vec![FieldDef::new("Id", T::Id).system(), FieldDef::new("IsDeleted", T::Boolean).system()];
    if mergeable {
        fields.push(FieldDef::new("MasterRecordId", T::Reference).system());
    }
    fields.extend([
        FieldDef::new("CreatedDate", T::Datetime).system().required(),
        FieldDef::new("CreatedById", T::Reference).system().references(&["User"]).required(),
        FieldDef::new("LastModifiedDate", T::Datetime).system().required(),
        FieldDef::new("LastModifiedById", T::Reference).system().references(&["User"]).required(),
        FieldDef::new("SystemModstamp", T::Datetime).system().required(),
        FieldDef::new(ECHO_FIELD, T::String).system(),
    ]);
    fields
}

/// Objects whose `Name` is the read-only compound of `FirstName` and `LastName`.
pub const PERSON_OBJECTS: &[&str] = &["Contact", "Lead", "User"];

/// A person's read-only compound `Name`, kept by every write.
fn person_name() -> FieldDef {
    FieldDef::new("Name", T::String).system()
}

fn owner() -> FieldDef {
    FieldDef::new("OwnerId", T::Reference).references(&["User"]).required().defaulted()
}

fn object(name: &str, prefix: &str, mergeable: bool, own: Vec<FieldDef>) -> ObjectDef {
    let mut fields = system_fields(mergeable);
    if let Some(master) = fields.iter_mut().find(|f| f.name == "MasterRecordId") {
        master.reference_to = vec![name.to_string()];
    }
    fields.extend(own);
    let mut def = ObjectDef::new(name, prefix, fields);
    def.mergeable = mergeable;
    def
}

fn address(prefix: &str) -> Vec<FieldDef> {
    ["Street", "City", "State", "PostalCode", "Country"]
        .iter()
        .map(|part| FieldDef::new(&format!("{prefix}{part}"), T::String))
        .collect()
}

/// A part of Salesforce's standard Industry picklist.
const INDUSTRIES: &[&str] =
    &["Technology", "Finance", "Healthcare", "Manufacturing", "Retail", "Education", "Other"];
const LEAD_SOURCES: &[&str] = &["Web", "Phone Inquiry", "Partner Referral", "Other"];

pub fn objects(opportunity_required: OpportunityRequired) -> Vec<ObjectDef> {
    let opportunity = opportunity(opportunity_required);
    vec![account(), contact(), lead(), opportunity, case(), task(), event(), user()]
}

fn account() -> ObjectDef {
    let mut fields = vec![
        FieldDef::new("Name", T::String).required(),
        FieldDef::new("AccountNumber", T::String),
        FieldDef::new("Website", T::Url),
        FieldDef::new("Phone", T::Phone),
        FieldDef::new("Industry", T::Picklist).picklist(INDUSTRIES, false),
        FieldDef::new("Type", T::Picklist).picklist(&["Prospect", "Customer", "Partner"], false),
        FieldDef::new("NumberOfEmployees", T::Int),
        FieldDef::new("AnnualRevenue", T::Currency),
        FieldDef::new("Description", T::Textarea),
        FieldDef::new("ParentId", T::Reference).references(&["Account"]),
        owner(),
    ];
    fields.extend(address("Billing"));
    fields.extend(address("Shipping"));
    object("Account", "001", true, fields)
}

fn contact() -> ObjectDef {
    let mut fields = vec![
        FieldDef::new("FirstName", T::String),
        FieldDef::new("LastName", T::String).required(),
        person_name(),
        FieldDef::new("Email", T::Email),
        FieldDef::new("Phone", T::Phone),
        FieldDef::new("MobilePhone", T::Phone),
        FieldDef::new("Title", T::String),
        FieldDef::new("Birthdate", T::Date),
        FieldDef::new("AccountId", T::Reference).references(&["Account"]),
        FieldDef::new("LeadSource", T::Picklist).picklist(LEAD_SOURCES, false),
        FieldDef::new("Description", T::Textarea),
        FieldDef::new("HasOptedOutOfEmail", T::Boolean),
        owner(),
    ];
    fields.extend(address("Mailing"));
    object("Contact", "003", true, fields)
}

fn lead() -> ObjectDef {
    let statuses = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted"];
    let fields = vec![
        FieldDef::new("FirstName", T::String),
        FieldDef::new("LastName", T::String).required(),
        person_name(),
        FieldDef::new("Company", T::String).required(),
        FieldDef::new("Email", T::Email),
        FieldDef::new("Phone", T::Phone),
        FieldDef::new("Title", T::String),
        FieldDef::new("Status", T::Picklist).picklist(&statuses, true).required().defaulted(),
        FieldDef::new("LeadSource", T::Picklist).picklist(LEAD_SOURCES, false),
        FieldDef::new("Industry", T::Picklist).picklist(INDUSTRIES, false),
        FieldDef::new("IsConverted", T::Boolean).system(),
        FieldDef::new("ConvertedDate", T::Date).system(),
        FieldDef::new("ConvertedAccountId", T::Reference).system().references(&["Account"]),
        FieldDef::new("ConvertedContactId", T::Reference).system().references(&["Contact"]),
        FieldDef::new("ConvertedOpportunityId", T::Reference).system().references(&["Opportunity"]),
        owner(),
    ];
    object("Lead", "00Q", true, fields)
}

/// `Name` is always required (the name field); `StageName` and `CloseDate` unless relaxed.
fn opportunity(required: OpportunityRequired) -> ObjectDef {
    let stages = ["Prospecting", "Qualification", "Negotiation", "Closed Won", "Closed Lost"];
    let strict = |field: FieldDef| match required {
        OpportunityRequired::NameStageAndCloseDate => field.required(),
        OpportunityRequired::NameOnly => field,
    };
    let fields = vec![
        FieldDef::new("Name", T::String).required(),
        strict(FieldDef::new("StageName", T::Picklist).picklist(&stages, true)),
        strict(FieldDef::new("CloseDate", T::Date)),
        FieldDef::new("Amount", T::Currency),
        FieldDef::new("Probability", T::Percent),
        FieldDef::new("AccountId", T::Reference).references(&["Account"]),
        FieldDef::new("Type", T::Picklist).picklist(&["New Business", "Existing Business"], false),
        FieldDef::new("LeadSource", T::Picklist).picklist(LEAD_SOURCES, false),
        FieldDef::new("Description", T::Textarea),
        FieldDef::new("IsClosed", T::Boolean).system(),
        FieldDef::new("IsWon", T::Boolean).system(),
        owner(),
    ];
    object("Opportunity", "006", false, fields)
}

fn case() -> ObjectDef {
    let fields = vec![
        FieldDef::new("CaseNumber", T::String).system(),
        FieldDef::new("Subject", T::String),
        FieldDef::new("Description", T::Textarea),
        FieldDef::new("Status", T::Picklist)
            .picklist(&["New", "Working", "Escalated", "Closed"], true)
            .defaulted(),
        FieldDef::new("Priority", T::Picklist).picklist(&["High", "Medium", "Low"], true),
        FieldDef::new("Origin", T::Picklist).picklist(&["Phone", "Email", "Web"], false),
        FieldDef::new("AccountId", T::Reference).references(&["Account"]),
        FieldDef::new("ContactId", T::Reference).references(&["Contact"]),
        FieldDef::new("IsClosed", T::Boolean).system(),
        owner(),
    ];
    object("Case", "500", true, fields)
}

fn activity_links() -> Vec<FieldDef> {
    vec![
        FieldDef::new("WhoId", T::Reference).references(&["Contact", "Lead"]),
        FieldDef::new("WhatId", T::Reference).references(&["Account", "Opportunity", "Case"]),
        FieldDef::new("Description", T::Textarea),
        owner(),
    ]
}

fn task() -> ObjectDef {
    let mut fields = vec![
        FieldDef::new("Subject", T::String),
        FieldDef::new("Status", T::Picklist)
            .picklist(&["Not Started", "In Progress", "Completed"], true)
            .required()
            .defaulted(),
        FieldDef::new("Priority", T::Picklist)
            .picklist(&["High", "Normal", "Low"], true)
            .required()
            .defaults_to("Normal"),
        FieldDef::new("ActivityDate", T::Date),
        FieldDef::new("TaskSubtype", T::Picklist).picklist(&["Task", "Email", "Call"], true),
        FieldDef::new("IsArchived", T::Boolean).system(),
    ];
    fields.extend(activity_links());
    object("Task", "00T", false, fields)
}

fn event() -> ObjectDef {
    let mut fields = vec![
        FieldDef::new("Subject", T::String),
        FieldDef::new("StartDateTime", T::Datetime),
        FieldDef::new("EndDateTime", T::Datetime),
        FieldDef::new("ActivityDateTime", T::Datetime),
        FieldDef::new("DurationInMinutes", T::Int),
        FieldDef::new("IsAllDayEvent", T::Boolean),
        FieldDef::new("Location", T::String),
        FieldDef::new("IsArchived", T::Boolean).system(),
    ];
    fields.extend(activity_links());
    object("Event", "00U", false, fields)
}

fn user() -> ObjectDef {
    let mut username = FieldDef::new("Username", T::String).required();
    username.unique = true;
    let fields = vec![
        username,
        FieldDef::new("Email", T::Email).required(),
        FieldDef::new("FirstName", T::String),
        FieldDef::new("LastName", T::String).required(),
        person_name(),
        FieldDef::new("Alias", T::String),
        FieldDef::new("IsActive", T::Boolean),
    ];
    object("User", "005", false, fields)
}

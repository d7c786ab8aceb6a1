//! HubSpot's default properties for each standard object type, and their groups.

use super::properties::PropertyDef;

const LIFECYCLE: &[&str] = &[
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
];

/// `(type id, property, kind)` for plain properties.
const PLAIN: &[(&str, &[&str], &str)] = &[
    (
        "0-1",
        &["email", "firstname", "lastname", "phone", "mobilephone", "fax", "company"],
        "string",
    ),
    ("0-1", &["website", "jobtitle", "address", "city", "state", "zip", "country"], "string"),
    ("0-1", &["date_of_birth"], "date"),
    ("0-2", &["name", "domain", "website", "phone", "city", "country"], "string"),
    ("0-2", &["industry", "description", "state", "zip"], "string"),
    ("0-2", &["numberofemployees", "annualrevenue"], "number"),
    ("0-3", &["dealname", "pipeline", "dealstage", "description"], "string"),
    ("0-3", &["amount"], "number"),
    ("0-3", &["closedate"], "datetime"),
    ("0-5", &["subject", "content", "hs_pipeline", "hs_pipeline_stage"], "string"),
    ("0-5", &["hs_ticket_category"], "string"),
    ("0-7", &["name", "description", "hs_sku", "hs_folder"], "string"),
    ("0-7", &["price"], "number"),
    ("0-8", &["name", "hs_product_id"], "string"),
    ("0-8", &["price", "quantity", "amount"], "number"),
    ("0-27", &["hs_task_subject", "hs_task_body"], "string"),
    ("0-46", &["hs_note_body", "hs_attachment_ids"], "string"),
    ("0-47", &["hs_meeting_title", "hs_meeting_body", "hs_meeting_location"], "string"),
    ("0-47", &["hs_meeting_external_url"], "string"),
    ("0-47", &["hs_meeting_start_time", "hs_meeting_end_time"], "datetime"),
    (
        "0-48",
        &["hs_call_title", "hs_call_body", "hs_call_from_number", "hs_call_to_number"],
        "string",
    ),
    ("0-48", &["hs_call_duration"], "number"),
    ("0-49", &["hs_email_subject", "hs_email_text", "hs_email_html", "hs_email_headers"], "string"),
];

/// `(type id, property, options)` for enumerations.
const ENUMERATIONS: &[(&str, &str, &[&str])] = &[
    ("0-1", "lifecyclestage", LIFECYCLE),
    ("0-2", "lifecyclestage", LIFECYCLE),
    ("0-3", "dealtype", &["newbusiness", "existingbusiness"]),
    ("0-5", "hs_ticket_priority", &["LOW", "MEDIUM", "HIGH", "URGENT"]),
    ("0-27", "hs_task_status", &["NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"]),
    ("0-27", "hs_task_priority", &["LOW", "MEDIUM", "HIGH"]),
    ("0-27", "hs_task_type", &["EMAIL", "CALL", "TODO"]),
    (
        "0-47",
        "hs_meeting_outcome",
        &["SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"],
    ),
    ("0-48", "hs_call_direction", &["INBOUND", "OUTBOUND"]),
    (
        "0-48",
        "hs_call_status",
        &[
            "BUSY",
            "CALLING_CRM_USER",
            "CANCELED",
            "COMPLETED",
            "CONNECTING",
            "FAILED",
            "IN_PROGRESS",
            "NO_ANSWER",
            "QUEUED",
            "RINGING",
        ],
    ),
    ("0-49", "hs_email_direction", &["EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"]),
    ("0-49", "hs_email_status", &["BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"]),
];

const ENGAGEMENTS: &[&str] = &["0-27", "0-46", "0-47", "0-48", "0-49"];

/// System properties every object has; the API cannot write them.
fn system(created: &str, modified: &str, group: &str) -> Vec<PropertyDef> {
    vec![
        PropertyDef::new("hs_object_id", "number", group).read_only(),
        PropertyDef::new(created, "datetime", group).read_only(),
        PropertyDef::new(modified, "datetime", group).read_only(),
        PropertyDef::new("hs_merged_object_ids", "enumeration", group).read_only(),
        PropertyDef::new("hubspot_owner_id", "enumeration", group),
    ]
}

/// HubSpot's default properties for an object type id (custom types get the system ones).
pub fn defaults_for(type_id: &str, created: &str, modified: &str) -> Vec<PropertyDef> {
    let g = group_of(type_id);
    let mut defs = system(created, modified, g);
    if ENGAGEMENTS.contains(&type_id) {
        defs.push(PropertyDef::new("hs_timestamp", "datetime", g));
    }
    if type_id == "0-1" {
        defs.push(PropertyDef::new("hs_additional_emails", "enumeration", g).read_only());
        defs.push(PropertyDef::new("hs_calculated_merged_vids", "enumeration", g).read_only());
    }
    for (_, names, kind) in PLAIN.iter().filter(|(t, _, _)| *t == type_id) {
        defs.extend(names.iter().map(|name| PropertyDef::new(name, kind, g)));
    }
    for (_, name, options) in ENUMERATIONS.iter().filter(|(t, _, _)| *t == type_id) {
        defs.push(PropertyDef::new(name, "enumeration", g).options(options));
    }
    defs
}

/// The default property group of an object type.
pub fn group_of(type_id: &str) -> &'static str {
    match type_id {
        "0-1" => "contactinformation",
        "0-2" => "companyinformation",
        "0-3" => "dealinformation",
        "0-5" => "ticketinformation",
        "0-7" => "productinformation",
        "0-8" => "lineiteminformation",
        "0-27" => "task",
        "0-46" => "note",
        "0-47" => "meeting",
        "0-48" => "call",
        "0-49" => "email",
        _ => "custom_object_information",
    }
}

//! Line items and the engagements (calls, emails, meetings, tasks) over HTTP: create, read,
//! batch read and search, with each type's required properties enforced on create.

use serde_json::{Value, json};

use super::Sim;

/// One type: its path name, a full create body, and a property whose value search finds.
struct Case {
    object: &'static str,
    properties: Value,
    title: &'static str,
}

fn cases() -> Vec<Case> {
    let at = "2026-03-02T09:30:00.000Z";
    vec![
        Case {
            object: "line_items",
            properties: json!({"name": "Widget line", "quantity": "2", "price": "9.5"}),
            title: "name",
        },
        Case {
            object: "calls",
            properties: json!({"hs_timestamp": at, "hs_call_title": "Intro call",
                               "hs_call_direction": "OUTBOUND", "hs_call_duration": "60000"}),
            title: "hs_call_title",
        },
        Case {
            object: "emails",
            properties: json!({"hs_timestamp": at, "hs_email_direction": "EMAIL",
                               "hs_email_subject": "Quote attached", "hs_email_status": "SENT"}),
            title: "hs_email_subject",
        },
        Case {
            object: "meetings",
            properties: json!({"hs_timestamp": at, "hs_meeting_title": "Kick-off",
                               "hs_meeting_outcome": "SCHEDULED"}),
            title: "hs_meeting_title",
        },
        Case {
            object: "tasks",
            properties: json!({"hs_timestamp": at, "hs_task_subject": "Send contract",
                               "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH"}),
            title: "hs_task_subject",
        },
    ]
}

fn names(case: &Case) -> Vec<&str> {
    case.properties.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Asserts a record read back carries every property it was created with.
fn assert_carries(case: &Case, record: &Value, id: &str) {
    assert_eq!(record["id"], json!(id), "{}: {record}", case.object);
    for (name, value) in case.properties.as_object().unwrap() {
        assert_eq!(&record["properties"][name], value, "{}.{name}: {record}", case.object);
    }
}

async fn search_by_title(sim: &Sim, case: &Case) -> Value {
    let value = &case.properties[case.title];
    let filter = json!({"propertyName": case.title, "operator": "EQ", "value": value});
    let body = json!({"filterGroups": [{"filters": [filter]}], "properties": [case.title]});
    let reply = sim.post(&format!("/crm/v3/objects/{}/search", case.object), body).await;
    assert_eq!(reply.status, 200, "{}: {}", case.object, reply.body);
    reply.body
}

#[tokio::test]
async fn line_items_calls_emails_meetings_and_tasks_are_created_read_batch_read_and_searched() {
    let sim = Sim::start().await;
    for case in cases() {
        let object = case.object;
        let id = sim.create(object, case.properties.clone()).await;
        let other = sim.create(object, case.properties.clone()).await;
        let renamed = json!({"properties": {case.title: "Something else"}});
        let patched = sim.patch(&format!("/crm/v3/objects/{object}/{other}"), renamed).await;
        assert_eq!(patched.status, 200, "{object}: {}", patched.body);
        let query = names(&case).join(",");
        let read = sim.get(&format!("/crm/v3/objects/{object}/{id}?properties={query}")).await;
        assert_eq!(read.status, 200, "{object}: {}", read.body);
        assert_carries(&case, &read.body, &id);
        let batch = json!({"inputs": [{"id": id}], "properties": names(&case)});
        let batch = sim.post(&format!("/crm/v3/objects/{object}/batch/read"), batch).await;
        assert_eq!(batch.status, 200, "{object}: {}", batch.body);
        assert_eq!(batch.body["results"].as_array().unwrap().len(), 1, "{object}");
        assert_carries(&case, &batch.body["results"][0], &id);
        let found = search_by_title(&sim, &case).await;
        assert_eq!(found["total"], json!(1), "{object}: {found}");
        assert_eq!(found["results"][0]["id"], json!(id), "{object}");
        assert_eq!(found["results"][0]["properties"][case.title], case.properties[case.title]);
    }
}

#[tokio::test]
async fn an_engagement_timestamp_given_in_milliseconds_reads_back_as_iso() {
    let sim = Sim::start().await;
    for object in ["calls", "meetings", "tasks"] {
        let id = sim.create(object, json!({"hs_timestamp": "1572480000000"})).await;
        let read = sim.get(&format!("/crm/v3/objects/{object}/{id}")).await;
        assert_eq!(read.body["properties"]["hs_timestamp"], json!("2019-10-31T00:00:00.000Z"));
    }
}

#[tokio::test]
async fn engagements_without_their_required_properties_are_refused_and_line_items_need_none() {
    let sim = Sim::start().await;
    let line_item = sim.post("/crm/v3/objects/line_items", json!({"properties": {}})).await;
    assert_eq!(line_item.status, 201, "line items require nothing: {}", line_item.body);
    let required: [(&str, &[&str]); 4] = [
        ("calls", &["hs_timestamp"]),
        ("emails", &["hs_timestamp", "hs_email_direction"]),
        ("meetings", &["hs_timestamp"]),
        ("tasks", &["hs_timestamp"]),
    ];
    for case in cases().into_iter().filter(|c| c.object != "line_items") {
        let (_, needed) = required.iter().find(|(o, _)| *o == case.object).unwrap();
        for missing in *needed {
            let mut properties = case.properties.clone();
            properties.as_object_mut().unwrap().remove(*missing);
            let path = format!("/crm/v3/objects/{}", case.object);
            let reply = sim.post(&path, json!({"properties": properties})).await;
            assert_eq!(reply.status, 400, "{} without {missing}: {}", case.object, reply.body);
            assert_eq!(reply.body["category"], json!("VALIDATION_ERROR"));
            assert_eq!(reply.body["errors"][0]["context"]["propertyName"], json!([missing]));
        }
        assert_eq!(sim.sim.count(case.object), 0, "{} created nothing", case.object);
    }
}

//! Webhooks: events for API and user changes, HubSpot's signatures, batches of at most 100,
//! retries on a scaled schedule, and chaos.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use hubspot_sim::signature::{sign_v1, sign_v3};
use hubspot_sim::{RetrySchedule, Subscription, WebhookSettings};
use serde_json::{Value, json};

use super::Sim;

const SECRET: &str = "client-secret";

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// When each request arrived.
    arrived: Arc<Mutex<Vec<std::time::Instant>>>,
    /// Statuses to answer with, in order; then 204.
    answers: Arc<Mutex<Vec<u16>>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver.got.lock().unwrap().push((headers, body));
    receiver.arrived.lock().unwrap().push(std::time::Instant::now());
    let mut answers = receiver.answers.lock().unwrap();
    let status = if answers.is_empty() { 204 } else { answers.remove(0) };
    StatusCode::from_u16(status).unwrap()
}

async fn receiver(answers: Vec<u16>) -> (Receiver, String) {
    let receiver = Receiver { answers: Arc::new(Mutex::new(answers)), ..Receiver::default() };
    let app = axum::Router::new().route("/hooks", post(receive)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, url)
}

fn settings(url: &str, subscriptions: Vec<Subscription>) -> WebhookSettings {
    let mut settings = WebhookSettings::new(url, SECRET, subscriptions);
    settings.retry = RetrySchedule::scaled(0.0001);
    settings.retry.jitter = 0.0;
    settings.linger = Duration::from_millis(30);
    settings
}

fn events(receiver: &Receiver) -> Vec<Value> {
    let got = receiver.got.lock().unwrap();
    got.iter().flat_map(|(_, body)| serde_json::from_slice::<Vec<Value>>(body).unwrap()).collect()
}

async fn until(receiver: &Receiver, count: usize) {
    for _ in 0..300 {
        if events(receiver).len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn api_and_user_changes_emit_signed_events_with_hubspots_fields() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![]).await;
    let subs = vec![
        Subscription::new(1, "contact.creation"),
        Subscription::new(2, "contact.propertyChange").property("firstname"),
    ];
    sim.sim.set_webhooks(Some(settings(&url, subs)));
    let id = sim.create("contacts", json!({"firstname": "Web", "lastname": "Hook"})).await;
    sim.sim.edit_as_user("contacts", id.parse().unwrap(), json!({"firstname": "Webb"}), 5).unwrap();
    until(&receiver, 3).await;
    let all = events(&receiver);
    let creation = all.iter().find(|e| e["subscriptionType"] == json!("contact.creation")).unwrap();
    assert_eq!(creation["objectId"], json!(id.parse::<u64>().unwrap()));
    assert_eq!(
        (creation["portalId"].clone(), creation["attemptNumber"].clone()),
        (json!(62515), json!(0))
    );
    assert_eq!(creation["changeSource"], json!("API"));
    let changes: Vec<&Value> =
        all.iter().filter(|e| e["subscriptionType"] == json!("contact.propertyChange")).collect();
    assert_eq!(changes.len(), 2, "one per firstname change, none for lastname");
    let by_user = changes.iter().find(|e| e["propertyValue"] == json!("Webb")).unwrap();
    assert_eq!(
        (by_user["changeSource"].as_str(), by_user["sourceId"].as_str()),
        (Some("CRM_UI"), Some("userId:5"))
    );
    let (headers, body) = receiver.got.lock().unwrap()[0].clone();
    let timestamp: i64 = headers["x-hubspot-request-timestamp"].to_str().unwrap().parse().unwrap();
    let expected = sign_v3(SECRET, "POST", &url, &body, &timestamp.to_string());
    assert_eq!(headers["x-hubspot-signature-v3"].to_str().unwrap(), expected);
    assert_eq!(headers["x-hubspot-signature"].to_str().unwrap(), sign_v1(SECRET, &body));
    assert_eq!(headers["x-hubspot-signature-version"].to_str().unwrap(), "v1");
}

#[tokio::test]
async fn events_arrive_in_arrays_of_at_most_one_hundred() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![]).await;
    sim.sim.set_webhooks(Some(settings(&url, vec![Subscription::new(1, "contact.creation")])));
    let inputs: Vec<Value> =
        (0..100).map(|i| json!({"properties": {"email": format!("b{i}@example.com")}})).collect();
    for _ in 0..2 {
        let mut more = inputs.clone();
        for (i, input) in more.iter_mut().enumerate() {
            input["properties"]["email"] =
                json!(format!("{}-{i}@example.com", uuid::Uuid::new_v4()));
        }
        assert_eq!(
            sim.post("/crm/v3/objects/contacts/batch/create", json!({"inputs": more})).await.status,
            201
        );
    }
    until(&receiver, 200).await;
    let sizes: Vec<usize> = receiver
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| serde_json::from_slice::<Vec<Value>>(b).unwrap().len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 200);
    assert!(sizes.iter().all(|s| *s <= 100), "{sizes:?}");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_a_growing_attempt_number() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![500, 404, 503]).await;
    sim.sim.set_webhooks(Some(settings(&url, vec![Subscription::new(1, "company.creation")])));
    sim.create("companies", json!({"name": "Retry"})).await;
    let log = sim
        .sim
        .wait_for_deliveries(Duration::from_secs(10), |log| {
            log.iter().any(|d| d.status == Some(204))
        })
        .await;
    let attempts: Vec<(u32, Option<u16>)> = log.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(attempts, [(0, Some(500)), (1, Some(404)), (2, Some(503)), (3, Some(204))]);
    let numbers: Vec<Value> =
        events(&receiver).iter().map(|e| e["attemptNumber"].clone()).collect();
    assert_eq!(numbers, [json!(0), json!(1), json!(2), json!(3)]);
}

#[tokio::test]
async fn a_receiver_that_never_succeeds_gets_one_try_and_ten_retries() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![500; 20]).await;
    let mut quick = settings(&url, vec![Subscription::new(1, "deal.deletion")]);
    quick.retry.scale = 0.00001;
    sim.sim.set_webhooks(Some(quick));
    let id = sim.create("deals", json!({"dealname": "d", "pipeline": "p", "dealstage": "s"})).await;
    sim.delete(&format!("/crm/v3/objects/deals/{id}")).await;
    let log = sim.sim.wait_for_deliveries(Duration::from_secs(20), |log| log.len() >= 11).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.sim.deliveries().len(), 11, "{log:?}");
    assert_eq!(events(&receiver).len(), 11);
}

#[tokio::test]
async fn chaos_can_deliver_every_batch_twice() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![]).await;
    let mut settings =
        settings(&url, vec![Subscription::new(9, "object.creation").object_type("0-46")]);
    settings.chaos.duplicate_fraction = 1.0;
    sim.sim.set_webhooks(Some(settings));
    sim.create("notes", json!({"hs_timestamp": "1572480000000"})).await;
    until(&receiver, 2).await;
    let all = events(&receiver);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["eventId"], all[1]["eventId"]);
    assert_eq!(all[0]["objectTypeId"], json!("0-46"));
    assert_eq!(all[0]["subscriptionType"], json!("object.creation"));
}

#[tokio::test]
async fn merges_associations_and_gdpr_deletes_emit_their_events() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![]).await;
    let subs = [
        "contact.merge",
        "contact.deletion",
        "contact.associationChange",
        "contact.privacyDeletion",
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| Subscription::new(i as u64 + 1, t))
    .collect();
    sim.sim.set_webhooks(Some(settings(&url, subs)));
    let a = sim.create("contacts", json!({"firstname": "a"})).await;
    let b = sim.create("contacts", json!({"firstname": "b"})).await;
    let company = sim.create("companies", json!({"name": "c"})).await;
    sim.put(
        &format!("/crm/v4/objects/contacts/{a}/associations/default/companies/{company}"),
        json!(null),
    )
    .await;
    let merged = sim
        .post("/crm/v3/objects/contacts/merge", json!({"primaryObjectId": a, "objectIdToMerge": b}))
        .await;
    let new_id = merged.body["id"].as_str().unwrap().parse::<u64>().unwrap();
    sim.post("/crm/v3/objects/contacts/gdpr-delete", json!({"objectId": new_id.to_string()})).await;
    until(&receiver, 6).await;
    let all = events(&receiver);
    let of = |t: &str| {
        all.iter().filter(|e| e["subscriptionType"] == json!(t)).cloned().collect::<Vec<_>>()
    };
    let association = &of("contact.associationChange")[0];
    assert_eq!(association["associationType"], json!("CONTACT_TO_COMPANY"));
    assert_eq!(association["associationRemoved"], json!(false));
    let merge = &of("contact.merge")[0];
    assert_eq!(merge["newObjectId"], json!(new_id));
    assert_eq!(merge["primaryObjectId"], json!(a.parse::<u64>().unwrap()));
    assert_eq!(merge["mergedObjectIds"], json!([b.parse::<u64>().unwrap()]));
    assert_eq!(of("contact.deletion").len(), 3, "two merged-away records and the erased one");
    assert_eq!(of("contact.privacyDeletion").len(), 1);
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_counts_as_a_failure_and_is_retried() {
    let sim = Sim::start().await;
    let slow = axum::Router::new().route(
        "/hooks",
        post(|| async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, slow).await });
    let mut settings = settings(&url, vec![Subscription::new(1, "ticket.creation")]);
    settings.timeout = Duration::from_millis(100);
    settings.retry.delays.truncate(2);
    sim.sim.set_webhooks(Some(settings));
    sim.create("tickets", json!({"subject": "s", "hs_pipeline": "0", "hs_pipeline_stage": "1"}))
        .await;
    let log = sim.sim.wait_for_deliveries(Duration::from_secs(5), |log| log.len() >= 3).await;
    let attempts: Vec<(u32, Option<u16>)> = log.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(attempts, [(0, None), (1, None), (2, None)]);
}

#[tokio::test]
async fn chaos_can_hold_a_batch_back_so_a_later_one_overtakes_it() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![]).await;
    let mut first = settings(&url, vec![Subscription::new(1, "company.creation")]);
    first.chaos.out_of_order_fraction = 1.0;
    first.chaos.delay = Duration::from_millis(600);
    sim.sim.set_webhooks(Some(first));
    let early = sim.create("companies", json!({"name": "early"})).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    sim.sim.set_webhooks(Some(settings(&url, vec![Subscription::new(1, "company.creation")])));
    let late = sim.create("companies", json!({"name": "late"})).await;
    until(&receiver, 2).await;
    let order: Vec<u64> =
        events(&receiver).iter().map(|e| e["objectId"].as_u64().unwrap()).collect();
    assert_eq!(order, [late.parse::<u64>().unwrap(), early.parse::<u64>().unwrap()]);
}

#[tokio::test]
async fn a_restore_by_a_user_emits_a_restore_event() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![]).await;
    sim.sim.set_webhooks(Some(settings(&url, vec![Subscription::new(1, "contact.restore")])));
    let id = sim.create("contacts", json!({"email": "back@example.com"})).await;
    sim.delete(&format!("/crm/v3/objects/contacts/{id}")).await;
    sim.sim.restore_as_user("contacts", id.parse().unwrap(), 3).unwrap();
    until(&receiver, 1).await;
    assert_eq!(events(&receiver)[0]["objectId"], json!(id.parse::<u64>().unwrap()));
    assert_eq!(sim.get(&format!("/crm/v3/objects/contacts/{id}")).await.status, 200);
}

#[tokio::test]
async fn webhooks_can_be_configured_over_http_with_the_developer_key() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![]).await;
    let key = "hapikey=sim-developer-key";
    let base = "/webhooks/v3/777";
    assert_eq!(
        sim.get(&format!("{base}/settings")).await.status,
        401,
        "a bearer token is not enough"
    );
    assert_eq!(sim.get(&format!("{base}/settings?{key}")).await.status, 404);
    let put = sim
        .put(
            &format!("{base}/settings?{key}"),
            json!({"targetUrl": url, "throttling": {"maxConcurrentRequests": 5}}),
        )
        .await;
    assert_eq!(
        (put.status, put.body["throttling"]["maxConcurrentRequests"].as_u64()),
        (200, Some(5))
    );
    let created = sim
        .post(&format!("{base}/subscriptions?{key}"), json!({"eventType": "company.creation"}))
        .await;
    assert_eq!((created.status, created.body["active"].as_bool()), (201, Some(false)));
    let id = created.body["id"].as_str().unwrap().to_string();
    sim.create("companies", json!({"name": "paused"})).await;
    let activated =
        sim.patch(&format!("{base}/subscriptions/{id}?{key}"), json!({"active": true})).await;
    assert_eq!(activated.body["active"], json!(true));
    let company = sim.create("companies", json!({"name": "heard"})).await;
    until(&receiver, 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let all = events(&receiver);
    assert_eq!(all.len(), 1, "only the change after activation is heard");
    assert_eq!(
        (all[0]["objectId"].as_u64(), all[0]["appId"].as_u64()),
        (company.parse().ok(), Some(777))
    );
    let (headers, body) = receiver.got.lock().unwrap()[0].clone();
    assert_eq!(
        headers["x-hubspot-signature"].to_str().unwrap(),
        sign_v1("sim-client-secret", &body)
    );
    let listed = sim.get(&format!("{base}/subscriptions?{key}")).await;
    assert_eq!(listed.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(sim.delete(&format!("{base}/subscriptions/{id}?{key}")).await.status, 204);
}

#[tokio::test]
async fn a_redirect_counts_as_a_failure_and_is_retried_not_followed() {
    let sim = Sim::start().await;
    let calls = Arc::new(Mutex::new(Vec::<&'static str>::new()));
    let (hooks, landed) = (calls.clone(), calls.clone());
    let app = axum::Router::new()
        .route(
            "/hooks",
            post(move || async move {
                let mut calls = hooks.lock().unwrap();
                calls.push("hooks");
                if calls.len() == 1 {
                    (StatusCode::FOUND, [("location", "/landed")]).into_response()
                } else {
                    StatusCode::NO_CONTENT.into_response()
                }
            }),
        )
        .route(
            "/landed",
            axum::routing::any(move || async move {
                landed.lock().unwrap().push("landed");
                StatusCode::NO_CONTENT
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    sim.sim.set_webhooks(Some(settings(&url, vec![Subscription::new(1, "company.creation")])));
    sim.create("companies", json!({"name": "Moved"})).await;
    let log = sim
        .sim
        .wait_for_deliveries(Duration::from_secs(10), |log| {
            log.iter().any(|d| d.status == Some(204))
        })
        .await;
    let attempts: Vec<(u32, Option<u16>)> = log.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(attempts, [(0, Some(302)), (1, Some(204))]);
    assert_eq!(*calls.lock().unwrap(), ["hooks", "hooks"], "the redirect is never followed");
}

#[tokio::test]
async fn chaos_can_hold_every_batch_back_by_the_configured_delay() {
    let sim = Sim::start().await;
    let (receiver, url) = receiver(vec![]).await;
    let delay = Duration::from_millis(500);
    let mut delayed = settings(&url, vec![Subscription::new(1, "contact.creation")]);
    delayed.chaos.delay_fraction = 1.0;
    delayed.chaos.delay = delay;
    sim.sim.set_webhooks(Some(delayed));
    let changed = std::time::Instant::now();
    sim.create("contacts", json!({"firstname": "Late"})).await;
    until(&receiver, 1).await;
    let arrived = receiver.arrived.lock().unwrap().clone();
    assert_eq!(arrived.len(), 1, "the delayed batch arrives, once");
    let waited = arrived[0] - changed;
    assert!(waited >= delay, "the first delivery came after {waited:?}, before {delay:?}");
}

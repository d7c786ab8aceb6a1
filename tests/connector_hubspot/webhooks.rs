//! Webhooks the simulator delivers, verified by the connector's verifier: signed events
//! are accepted and typed, a receiver with the wrong secret refuses them.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hubspot_sim::{RateProfile, Subscription, WebhookSettings};
use hubsync::connector::hubspot::webhook::{
    WebhookEvent, WebhookEventKind, WebhookRequest, WebhookVerifier,
};
use secrecy::SecretString;
use serde_json::json;

use super::*;

struct Receiver {
    url: String,
    verifier: WebhookVerifier,
    events: Mutex<Vec<WebhookEvent>>,
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let request =
        WebhookRequest { method: "POST", url: &receiver.url, headers: &headers, body: &body };
    match receiver.verifier.verify(&request, chrono::Utc::now()) {
        Ok(events) => {
            receiver.events.lock().unwrap().extend(events);
            StatusCode::NO_CONTENT
        }
        Err(err) => StatusCode::from_u16(err.status()).unwrap(),
    }
}

async fn start_receiver(secret: &str) -> Arc<Receiver> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hubspot/webhooks", listener.local_addr().unwrap());
    let verifier = WebhookVerifier::new(SecretString::from(secret));
    let receiver = Arc::new(Receiver { url, verifier, events: Mutex::new(Vec::new()) });
    let app = axum::Router::new()
        .route("/hubspot/webhooks", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    receiver
}

fn subscribe(sim: &hubspot_sim::HubspotSim, url: &str, secret: &str) {
    let subscription = Subscription::new(1, "contact.propertyChange").property("firstname");
    sim.set_webhooks(Some(WebhookSettings::new(url, secret, vec![subscription])));
}

#[tokio::test]
async fn a_signed_delivery_is_accepted_and_parsed_into_a_property_change() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let receiver = start_receiver("app-secret").await;
    subscribe(&sim, &receiver.url, "app-secret");
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap();
    sim.edit_as_user("contacts", id, json!({"firstname": "Ann"}), 7).unwrap();
    let log = sim
        .wait_for_deliveries(Duration::from_secs(5), |log| log.iter().any(|d| d.status.is_some()))
        .await;
    assert_eq!(log[0].status, Some(204), "{log:?}");
    let events = receiver.events.lock().unwrap().clone();
    assert_eq!(events[0].object_id, id);
    assert_eq!(
        events[0].kind,
        WebhookEventKind::PropertyChange { name: "firstname".into(), value: Some("Ann".into()) }
    );
}

#[tokio::test]
async fn a_delivery_signed_with_another_secret_is_refused_with_401() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let receiver = start_receiver("our-secret").await;
    subscribe(&sim, &receiver.url, "someone-elses-secret");
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap();
    sim.edit_as_user("contacts", id, json!({"firstname": "Ann"}), 7).unwrap();
    let log = sim
        .wait_for_deliveries(Duration::from_secs(5), |log| log.iter().any(|d| d.status.is_some()))
        .await;
    assert_eq!(log[0].status, Some(401));
    assert!(receiver.events.lock().unwrap().is_empty());
}

/// The simulator signs with its own code (`hubspot_sim::signature`); the connector checks
/// with its own. Both follow HubSpot's documentation, so each signature header the simulator
/// sends must be the one the connector computes for that body.
#[tokio::test]
async fn the_simulators_v1_and_v3_signatures_are_the_connectors() {
    use hubsync::connector::hubspot::webhook::{v1_signature, v3_signature};
    let got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let record = got.clone();
    let app = axum::Router::new().route(
        "/hubspot/webhooks%3Areceive",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
            record.lock().unwrap().push((headers, body));
            StatusCode::NO_CONTENT
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hubspot/webhooks%3Areceive", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let sim = sim(RateProfile::UNLIMITED).await;
    subscribe(&sim, &url, "app-secret");
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap();
    sim.edit_as_user("contacts", id, json!({"firstname": "Ann"}), 7).unwrap();
    sim.wait_for_deliveries(Duration::from_secs(5), |log| log.iter().any(|d| d.status.is_some()))
        .await;
    let (headers, body) = got.lock().unwrap().first().cloned().expect("a delivery arrived");
    let header = |name: &str| headers[name].to_str().unwrap().to_string();
    assert_eq!(header("x-hubspot-signature"), v1_signature("app-secret", &body));
    let timestamp = header("x-hubspot-request-timestamp");
    let v3 = v3_signature("app-secret", "POST", &url, &body, &timestamp);
    assert_eq!(header("x-hubspot-signature-v3"), v3);
}

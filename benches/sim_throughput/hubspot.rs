//! HubSpot simulator throughput: batch upserts of 100 by a custom unique property, over HTTP,
//! from several concurrent clients, with no rate limit. Creates every record, then updates
//! every record, and reports records written per second.

use std::sync::Arc;
use std::time::Instant;

use hubspot_sim::{HubspotSim, RateProfile, SimConfig};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const RECORDS: usize = 100_000;
const BATCH: usize = 100;
const CLIENTS: usize = 8;

fn batch_body(start: usize, round: usize) -> bytes::Bytes {
    let inputs: Vec<Value> = (start..start + BATCH)
        .map(|i| {
            json!({"id": format!("ext-{i}"), "idProperty": "ext_id", "properties": {
                "email": format!("person{i}@example.com"), "firstname": format!("First{i}"),
                "lastname": format!("Last{round}"), "city": "Berlin", "lifecyclestage": "lead"}})
        })
        .collect();
    bytes::Bytes::from(serde_json::to_vec(&json!({"inputs": inputs})).expect("serialises"))
}

async fn round(sim: &HubspotSim, client: &reqwest::Client, round: usize) -> usize {
    let url = format!("{}/crm/v3/objects/contacts/batch/upsert", sim.base_url());
    let bodies: Vec<bytes::Bytes> =
        (0..RECORDS).step_by(BATCH).map(|s| batch_body(s, round)).collect();
    let permits = Arc::new(Semaphore::new(CLIENTS));
    let mut tasks = JoinSet::new();
    for body in bodies {
        let permit = permits.clone().acquire_owned().await.expect("semaphore open");
        let request = client
            .post(&url)
            .bearer_auth(sim.token())
            .header("content-type", "application/json")
            .body(body);
        tasks.spawn(async move {
            let response = request.send().await.expect("the simulator answers");
            assert_eq!(response.status(), 200, "every upsert succeeds");
            response.bytes().await.expect("a body");
            drop(permit);
            BATCH
        });
    }
    let mut written = 0;
    while let Some(done) = tasks.join_next().await {
        written += done.expect("a client task");
    }
    written
}

/// Runs the benchmark and prints its one summary line.
pub async fn run() {
    let config = SimConfig { rate: RateProfile::UNLIMITED, ..SimConfig::default() };
    let sim = HubspotSim::start(config).await.expect("the simulator starts");
    let unique = json!({"name": "ext_id", "label": "External id", "type": "string",
                        "fieldType": "text", "groupName": "contactinformation", "hasUniqueValue": true});
    sim.create_property("contacts", unique).expect("a unique property");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut written = 0;
    for n in 0..2 {
        written += round(&sim, &client, n).await;
    }
    let rate = written as f64 / started.elapsed().as_secs_f64();
    assert_eq!(sim.count("contacts"), RECORDS);
    println!("hubspot batch upsert: {rate:.0} records/s (target ≥ 20000)");
    sim.stop().await.expect("the simulator stops");
}

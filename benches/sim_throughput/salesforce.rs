//! Salesforce simulator throughput: collections upserts of 200 records over HTTP from
//! several concurrent clients, with no API limit. Half of each run creates records, half
//! updates them, all through the External ID index.

use std::time::{Duration, Instant};

use salesforce_sim::{SalesforceSim, Seed, SimConfig};
use serde_json::{Value, json};
use tokio::task::JoinSet;

const CLIENTS: usize = 4;
const BATCH: usize = 200;
/// Each client upserts this many batches: first creating its records, then updating them.
const BATCHES_PER_CLIENT: usize = 50;

fn batch(client: usize, round: usize) -> Value {
    let key_round = round % (BATCHES_PER_CLIENT / 2);
    let records: Vec<Value> = (0..BATCH)
        .map(|i| {
            json!({
                "attributes": {"type": "Contact"},
                "HubSpot_Id__c": format!("c{client}-{key_round}-{i}"),
                "LastName": format!("Person {i}"),
                "Email": format!("p{client}.{key_round}.{i}@example.com"),
                "Title": format!("round {round}"),
            })
        })
        .collect();
    json!({"allOrNone": false, "records": records})
}

async fn client(http: reqwest::Client, url: String, token: String, client: usize) -> usize {
    let mut written = 0;
    for round in 0..BATCHES_PER_CLIENT {
        let response =
            http.patch(&url).bearer_auth(&token).json(&batch(client, round)).send().await;
        let results: Vec<Value> =
            response.expect("request sent").json().await.expect("a results array");
        written += results.iter().filter(|r| r["success"] == true).count();
    }
    written
}

/// Runs the benchmark and prints its one summary line.
pub async fn run() {
    let seed = Seed::default().with_external_id("Contact", "HubSpot_Id__c", true);
    let config = SimConfig { daily_api_limit: u64::MAX / 2, seed, ..SimConfig::default() };
    let sim = SalesforceSim::start(config).await.expect("simulator starts");
    let url = format!("{}/composite/sobjects/Contact/HubSpot_Id__c", sim.data_url("v59.0"));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an http client");
    let started = Instant::now();
    let mut clients = JoinSet::new();
    for n in 0..CLIENTS {
        clients.spawn(client(http.clone(), url.clone(), sim.access_token(), n));
    }
    let written: usize = clients.join_all().await.into_iter().sum();
    let elapsed = started.elapsed().as_secs_f64();
    let expected = CLIENTS * BATCHES_PER_CLIENT * BATCH;
    assert_eq!(written, expected, "every record was written");
    assert_eq!(sim.count("Contact", false), expected / 2, "the second half were updates");
    let rate = written as f64 / elapsed;
    println!("salesforce collections upsert: {rate:.0} records/s (target ≥ 20000)");
    sim.stop().await.expect("simulator stops");
}

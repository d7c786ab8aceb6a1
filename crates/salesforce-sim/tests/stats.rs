//! The per-endpoint counts tests and benchmarks read: records returned by queries, query
//! pages, retrieves and single reads.

use serde_json::{Value, json};

use super::{Sf, V};

const QUERY: &str = "GET /services/data/{v}/query";

async fn seed_contacts(sf: &Sf, n: usize) -> Vec<String> {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            json!({"attributes": {"type": "Contact"}, "LastName": format!("C{i:03}"),
                        "HubSpot_Id__c": format!("h{i}")})
        })
        .collect();
    let mut ids = Vec::new();
    for chunk in records.chunks(200) {
        let answer = sf.post("/composite/sobjects", json!({"records": chunk})).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        ids.extend(
            answer.body.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()),
        );
    }
    ids
}

/// Runs `soql` with a batch size of 200 and follows every `nextRecordsUrl`.
async fn page_through(sf: &Sf, soql: &str) -> usize {
    let request = sf.http.get(format!("{}/query", sf.sim.data_url(V))).query(&[("q", soql)]);
    let request = request.header("Sforce-Query-Options", "batchSize=200").bearer_auth(&sf.token);
    let mut page = super::answer(request.send().await.unwrap()).await.body;
    let mut rows = page["records"].as_array().unwrap().len();
    while let Some(next) = page["nextRecordsUrl"].as_str().map(str::to_string) {
        page = sf.get(&next).await.body;
        rows += page["records"].as_array().unwrap().len();
    }
    rows
}

fn read(sf: &Sf, endpoint: &str) -> u64 {
    sf.sim.stats().snapshot().get(endpoint).map_or(0, |entry| entry.records_read)
}

#[tokio::test]
async fn records_returned_by_a_query_and_its_pages_are_counted_per_endpoint() {
    let sf = Sf::start().await;
    seed_contacts(&sf, 450).await;
    assert_eq!(page_through(&sf, "SELECT Id FROM Contact").await, 450);
    assert_eq!(read(&sf, QUERY), 200, "the first page");
    assert_eq!(read(&sf, "GET /services/data/{v}/query/{locator}"), 250, "the next two pages");
    assert_eq!(sf.query("SELECT COUNT() FROM Contact", false).await.body["totalSize"], 450);
    assert_eq!(read(&sf, QUERY), 200, "a COUNT() query returns no records");
    assert_eq!(sf.query("SELECT Id FROM Contact WHERE LastName = 'C007'", true).await.status, 200);
    assert_eq!(read(&sf, "GET /services/data/{v}/queryAll"), 1);
    assert_eq!(sf.sim.stats().total_read(), 451);
}

#[tokio::test]
async fn records_returned_by_retrieves_and_single_reads_are_counted_per_endpoint() {
    let sf = Sf::start().await;
    let ids = seed_contacts(&sf, 3).await;
    let missing = salesforce_sim::ids::make("003", 999_999);
    let list = format!("{},{},{missing}", ids[0], ids[1]);
    let got = sf.get(&format!("/composite/sobjects/Contact?ids={list}&fields=Id")).await;
    assert_eq!(got.body.as_array().unwrap().iter().filter(|r| r.is_null()).count(), 1);
    assert_eq!(read(&sf, "GET /services/data/{v}/composite/sobjects/{t}"), 2, "not the null");
    let body = json!({"ids": ids, "fields": ["LastName"]});
    assert_eq!(sf.post("/composite/sobjects/Contact", body).await.status, 200);
    assert_eq!(read(&sf, "POST /services/data/{v}/composite/sobjects/{t}"), 3);
    assert_eq!(sf.get(&format!("/sobjects/Contact/{}", ids[2])).await.status, 200);
    assert_eq!(read(&sf, "GET /services/data/{v}/sobjects/{t}/{id}"), 1);
    assert_eq!(sf.get("/sobjects/Contact/HubSpot_Id__c/h1").await.status, 200);
    assert_eq!(read(&sf, "GET /services/data/{v}/sobjects/{t}/{field}/{value}"), 1);
    assert_eq!(sf.get(&format!("/sobjects/Contact/{missing}")).await.status, 404);
    assert_eq!(sf.sim.stats().total_read(), 7, "a 404 returns no record");
}

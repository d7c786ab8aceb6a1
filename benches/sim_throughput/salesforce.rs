//! Salesforce simulator throughput: collections upserts of 200 records over HTTP from
//! several concurrent clients, with no API limit.

pub async fn run() {}

//! Requests refused before any handler runs still get Salesforce's JSON error array.

use serde_json::Value;

use super::{Answer, Sf, V, answer};

fn assert_json_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/json;charset=UTF-8"));
    assert!(answer.body.is_array(), "an error array, got {:?}", answer.body);
    assert_eq!(answer.error_code(), code, "{}", answer.body);
    assert!(answer.body[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn a_malformed_query_string_on_query_and_query_all_answers_a_json_error_array() {
    let sf = Sf::start().await;
    for resource in ["query", "queryAll"] {
        let url = format!("{}/{resource}?q=SELECT+Id+FROM+Contact&q=again", sf.sim.data_url(V));
        let response = sf.http.get(url).bearer_auth(&sf.token).send().await.unwrap();
        assert_json_error(&answer(response).await, 400, "INVALID_QUERY_PARAMETER");
    }
}

#[tokio::test]
async fn an_undecodable_path_segment_answers_not_found_as_a_json_error_array() {
    let sf = Sf::start().await;
    assert_json_error(&sf.get("/sobjects/Contact/%FF").await, 404, "NOT_FOUND");
    assert_json_error(&sf.get("/sobjects/%FF/describe").await, 404, "NOT_FOUND");
}

#[tokio::test]
async fn a_body_over_the_size_limit_answers_413_as_a_json_error_array() {
    let sf = Sf::start().await;
    let padding = "x".repeat(16 * 1024 * 1024 + 1);
    let response = sf
        .http
        .post(sf.url("/sobjects/Contact"))
        .bearer_auth(&sf.token)
        .header("content-type", "application/json")
        .body(format!(r#"{{"LastName": "{padding}"}}"#))
        .send()
        .await
        .unwrap();
    assert_json_error(&answer(response).await, 413, "REQUEST_ENTITY_TOO_LARGE");
    assert_eq!(sf.sim.count("Contact", true), 0);
    assert_eq!(sf.get("/sobjects/Contact/describe").await.body["name"], Value::from("Contact"));
}

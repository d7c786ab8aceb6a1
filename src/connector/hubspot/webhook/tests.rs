//! The fact sheet's signature vectors, and refusals of forged, stale, replayed and tampered
//! requests.

use chrono::TimeZone;

use super::*;

const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const BODY: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
const URL: &str = "https://www.example.com/webhook_uri";
const V3_VECTOR: &str = "/pXDSgWeGksQpwCsgqd43P0eY6gBIse9UX0tfkudUrE=";

fn at(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis).unwrap()
}

fn v3_headers(signature: &str, timestamp: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("X-HubSpot-Signature-V3", signature.parse().unwrap());
    headers.insert("X-HubSpot-Request-Timestamp", timestamp.parse().unwrap());
    headers
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(SecretString::from(SECRET))
}

fn request<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest { method: "POST", url: URL, headers, body }
}

#[test]
fn the_fact_sheet_v3_vector_matches() {
    let signature = v3_signature(SECRET, "POST", URL, BODY.as_bytes(), "1700000000000");
    assert_eq!(signature, V3_VECTOR);
}

#[test]
fn the_fact_sheet_v1_vector_matches() {
    assert_eq!(
        v1_signature(SECRET, BODY.as_bytes()),
        "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    );
}

#[test]
fn the_fact_sheet_v2_vectors_match() {
    assert_eq!(
        v2_signature(SECRET, "GET", URL, b""),
        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    );
    assert_eq!(
        v2_signature(SECRET, "POST", URL, br#"{"example_field":"example_value"}"#),
        "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
    );
}

#[test]
fn a_signed_v3_request_inside_the_window_yields_typed_events() {
    let headers = v3_headers(V3_VECTOR, "1700000000000");
    let events = verifier().verify(&request(&headers, BODY.as_bytes()), at(1_700_000_100_000));
    let events = events.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, WebhookEventKind::Creation);
    assert_eq!((events[0].object_type.as_str(), events[0].object_id), ("contact", 123));
    assert_eq!(events[0].portal_id, 62515);
}

#[test]
fn a_forged_signature_is_refused() {
    let forged = v3_signature("not-the-secret", "POST", URL, BODY.as_bytes(), "1700000000000");
    let headers = v3_headers(&forged, "1700000000000");
    let outcome = verifier().verify(&request(&headers, BODY.as_bytes()), at(1_700_000_000_000));
    assert_eq!(outcome.unwrap_err(), WebhookError::BadSignature);
}

#[test]
fn a_request_older_than_five_minutes_is_refused_even_when_signed() {
    let headers = v3_headers(V3_VECTOR, "1700000000000");
    let late = at(1_700_000_000_000 + 301_000);
    let outcome = verifier().verify(&request(&headers, BODY.as_bytes()), late);
    assert_eq!(outcome.unwrap_err(), WebhookError::Stale);
}

#[test]
fn a_replayed_request_is_refused_the_second_time() {
    let verifier = verifier();
    let headers = v3_headers(V3_VECTOR, "1700000000000");
    let now = at(1_700_000_001_000);
    assert!(verifier.verify(&request(&headers, BODY.as_bytes()), now).is_ok());
    let again = verifier.verify(&request(&headers, BODY.as_bytes()), now);
    assert_eq!(again.unwrap_err(), WebhookError::Replayed);
}

#[test]
fn a_tampered_body_is_refused() {
    let headers = v3_headers(V3_VECTOR, "1700000000000");
    let tampered = BODY.replace("\"objectId\":123", "\"objectId\":124");
    let outcome = verifier().verify(&request(&headers, tampered.as_bytes()), at(1_700_000_000_000));
    assert_eq!(outcome.unwrap_err(), WebhookError::BadSignature);
}

#[test]
fn v1_is_refused_unless_enabled_and_then_checked() {
    let mut headers = HeaderMap::new();
    headers.insert("x-hubspot-signature-version", "v1".parse().unwrap());
    let good = v1_signature(SECRET, BODY.as_bytes());
    headers.insert("x-hubspot-signature", good.parse().unwrap());
    let now = at(0);
    let refused = verifier().verify(&request(&headers, BODY.as_bytes()), now);
    assert_eq!(refused.unwrap_err(), WebhookError::V1Disabled);
    let v1 = verifier().accept_v1();
    assert!(v1.verify(&request(&headers, BODY.as_bytes()), now).is_ok());
    let tampered = BODY.replace("CRM", "API");
    let outcome = v1.verify(&request(&headers, tampered.as_bytes()), now);
    assert_eq!(outcome.unwrap_err(), WebhookError::BadSignature);
}

#[test]
fn an_unsigned_request_is_refused() {
    let headers = HeaderMap::new();
    let outcome = verifier().verify(&request(&headers, BODY.as_bytes()), at(0));
    assert_eq!(outcome.unwrap_err(), WebhookError::Unsigned);
}

#[test]
fn only_the_listed_escapes_are_decoded_before_signing() {
    assert_eq!(
        decode_uri("https://x.com/hook%3Fa%3Db%20c%2Fd%40e"),
        "https://x.com/hook?a%3Db%20c/d@e"
    );
}

#[test]
fn property_changes_merges_and_generic_object_events_parse() {
    let body = br#"[
      {"eventId":2,"subscriptionId":1,"portalId":3,"occurredAt":1700000000000,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"email","propertyValue":"a@b.c"},
      {"eventId":3,"subscriptionId":1,"portalId":3,"occurredAt":1700000000000,"subscriptionType":"contact.merge","objectId":9,"primaryObjectId":7,"mergedObjectIds":[8],"newObjectId":9},
      {"eventId":4,"subscriptionId":1,"portalId":3,"occurredAt":1700000000000,"subscriptionType":"object.deletion","objectTypeId":"0-3","objectId":5}
    ]"#;
    let events = parse_events(body).unwrap();
    assert_eq!(
        events[0].kind,
        WebhookEventKind::PropertyChange { name: "email".into(), value: Some("a@b.c".into()) }
    );
    assert_eq!(
        events[1].kind,
        WebhookEventKind::Merge { primary_id: 7, merged_ids: vec![8], new_id: Some(9) }
    );
    assert_eq!(
        (events[2].object_type.as_str(), &events[2].kind),
        ("0-3", &WebhookEventKind::Deletion)
    );
}

#[test]
fn malformed_json_is_a_bad_request_not_an_auth_failure() {
    let err = parse_events(b"{not json").unwrap_err();
    assert_eq!(err.status(), 400);
}

#[test]
fn a_replay_whose_signature_header_is_padded_differently_is_still_refused() {
    let verifier = verifier();
    let now = at(1_700_000_001_000);
    let padded = v3_headers(&format!(" {V3_VECTOR} "), "1700000000000");
    assert!(verifier.verify(&request(&padded, BODY.as_bytes()), now).is_ok());
    let plain = v3_headers(V3_VECTOR, "1700000000000");
    let again = verifier.verify(&request(&plain, BODY.as_bytes()), now);
    assert_eq!(again.unwrap_err(), WebhookError::Replayed, "the same signature, trimmed");
}

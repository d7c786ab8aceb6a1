//! What happens to records over time: audit fields, the echo marker, merges, the recycle
//! bin, undelete, system changes, and edits "as a Salesforce user".

use chrono::{Duration, TimeZone};
use salesforce_sim::{DatetimePrecision, SalesforceSim, Seed, SimConfig};
use serde_json::{Value, json};

use super::{Sf, test_config};

#[tokio::test]
async fn the_echo_marker_records_the_calling_client_and_a_user_edit_clears_it() {
    let sf = Sf::start().await;
    let created = sf
        .call_with(
            reqwest::Method::POST,
            "/sobjects/Contact",
            Some(json!({"LastName": "Ng"})),
            &[("Sforce-Call-Options", "client=hubsync-test, defaultNamespace=x")],
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let rows = sf.rows("SELECT Id, LastModifiedByClient, LastModifiedById FROM Contact WHERE LastModifiedByClient = 'hubsync-test'").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["LastModifiedById"], sf.sim.integration_user_id());
    sf.sim.edit_as_user(&id, json!({"Title": "CEO"})).unwrap();
    let record = sf.sim.record(&id).unwrap();
    assert_eq!(record["LastModifiedByClient"], Value::Null);
    assert_eq!(record["LastModifiedById"], sf.sim.admin_user_id());
    sf.patch(&format!("/sobjects/Contact/{id}"), json!({"Title": "CTO"})).await;
    assert_eq!(sf.sim.record(&id).unwrap()["LastModifiedByClient"], Value::Null, "no client named");
}

#[tokio::test]
async fn the_echo_marker_is_read_only() {
    let sf = Sf::start().await;
    let answer = sf
        .post("/sobjects/Contact", json!({"LastName": "Ng", "LastModifiedByClient": "forged"}))
        .await;
    assert_eq!(answer.error_code(), "INVALID_FIELD_FOR_INSERT_UPDATE");
}

#[tokio::test]
async fn a_merge_deletes_the_losers_with_master_record_id_and_reparents_their_children() {
    let sf = Sf::start().await;
    sf.sim.clock().freeze();
    let master = sf.create("Account", json!({"Name": "Winner"})).await;
    let loser = sf.create("Account", json!({"Name": "Loser"})).await;
    let child = sf.create("Contact", json!({"LastName": "Kid", "AccountId": loser})).await;
    let before = sf.sim.record(&master).unwrap()["SystemModstamp"].clone();
    sf.sim.clock().advance(Duration::seconds(10));
    sf.sim.merge(&master, &[&loser]).unwrap();
    let merged = sf.sim.record(&loser).unwrap();
    assert_eq!(merged["IsDeleted"], true);
    assert_eq!(merged["MasterRecordId"], master.as_str());
    assert_eq!(sf.sim.record(&child).unwrap()["AccountId"], master.as_str());
    assert!(sf.sim.record(&master).unwrap()["SystemModstamp"].as_str() > before.as_str());
    assert_eq!(
        sf.get(&format!("/sobjects/Account/{loser}")).await.error_code(),
        "ENTITY_IS_DELETED"
    );
}

#[tokio::test]
async fn objects_that_cannot_merge_refuse_a_merge() {
    let sf = Sf::start().await;
    let close = "2024-01-01";
    let a = sf
        .create("Opportunity", json!({"Name": "A", "StageName": "Prospecting", "CloseDate": close}))
        .await;
    let b = sf
        .create("Opportunity", json!({"Name": "B", "StageName": "Prospecting", "CloseDate": close}))
        .await;
    assert!(sf.sim.merge(&a, &[&b]).is_err());
}

#[tokio::test]
async fn an_undeleted_record_is_live_again() {
    let sf = Sf::start().await;
    let id = sf.create("Contact", json!({"LastName": "Ng", "HubSpot_Id__c": "h1"})).await;
    sf.delete(&format!("/sobjects/Contact/{id}")).await;
    assert!(
        sf.sim.find("Contact", "HubSpot_Id__c", "h1").is_empty(),
        "deleted records leave the index"
    );
    sf.sim.undelete(&id).unwrap();
    assert_eq!(sf.get(&format!("/sobjects/Contact/{id}")).await.status, 200);
    assert_eq!(sf.sim.find("Contact", "HubSpot_Id__c", "h1").len(), 1);
}

#[tokio::test]
async fn a_system_change_moves_only_system_modstamp() {
    let sf = Sf::start().await;
    sf.sim.clock().freeze();
    let id = sf.contact("Ng").await;
    sf.sim.clock().advance(Duration::minutes(1));
    sf.sim.touch_system(&id).unwrap();
    let record = sf.sim.record(&id).unwrap();
    assert!(record["LastModifiedDate"].as_str() < record["SystemModstamp"].as_str());
}

#[tokio::test]
async fn seeded_records_may_carry_back_dated_audit_fields() {
    let sf = Sf::start().await;
    let id = sf
        .sim
        .seed("Contact", json!({"LastName": "Old", "CreatedDate": "2020-01-01T00:00:00Z", "LastModifiedDate": "2020-02-01T00:00:00.000+0000"}))
        .unwrap();
    let record = sf.sim.record(&id).unwrap();
    assert_eq!(record["CreatedDate"], "2020-01-01T00:00:00.000+0000");
    assert_eq!(record["LastModifiedDate"], "2020-02-01T00:00:00.000+0000");
    assert!(record["SystemModstamp"].as_str() >= record["LastModifiedDate"].as_str());
}

#[tokio::test]
async fn a_seeded_record_may_set_all_three_audit_fields_in_order() {
    let sf = Sf::start().await;
    let fields = json!({"LastName": "Old", "CreatedDate": "2020-01-01T00:00:00Z",
        "LastModifiedDate": "2020-02-01T00:00:00Z", "SystemModstamp": "2020-03-01T00:00:00Z"});
    let id = sf.sim.seed("Contact", fields).unwrap();
    let record = sf.sim.record(&id).unwrap();
    assert_eq!(record["SystemModstamp"], "2020-03-01T00:00:00.000+0000");
}

#[tokio::test]
async fn a_seeded_record_whose_audit_fields_are_out_of_order_is_refused_naming_them() {
    let sf = Sf::start().await;
    let cases = [
        (
            json!({"LastName": "A", "CreatedDate": "2021-01-01T00:00:00Z", "LastModifiedDate": "2020-01-01T00:00:00Z"}),
            ["CreatedDate", "LastModifiedDate"],
        ),
        (
            json!({"LastName": "B", "CreatedDate": "2020-01-01T00:00:00Z", "LastModifiedDate": "2020-02-01T00:00:00Z", "SystemModstamp": "2020-01-15T00:00:00Z"}),
            ["LastModifiedDate", "SystemModstamp"],
        ),
        (
            json!({"LastName": "C", "LastModifiedDate": "2020-01-01T00:00:00Z"}),
            ["CreatedDate", "LastModifiedDate"],
        ),
    ];
    for (fields, named) in cases {
        let err = sf.sim.seed("Contact", fields.clone()).unwrap_err();
        assert_eq!(
            (err.code, err.fields.clone()),
            ("FIELD_INTEGRITY_EXCEPTION", named.map(String::from).to_vec())
        );
        assert!(err.message.contains(named[0]) && err.message.contains(named[1]), "{fields}");
    }
    assert_eq!(sf.sim.count("Contact", true), 0, "none was stored");
}

#[tokio::test]
async fn a_seed_file_with_audit_fields_out_of_order_stops_start_up_naming_the_record() {
    let seed = Seed::from_json(
        r#"{"records": {"Contact": [
            {"LastName": "Fine"},
            {"LastName": "Odd", "CreatedDate": "2024-06-01T00:00:00Z", "LastModifiedDate": "2024-05-01T00:00:00Z"}
        ]}}"#,
    )
    .unwrap();
    let config = SimConfig { seed, ..SimConfig::default() };
    let err = SalesforceSim::start(config).await.err().expect("start-up fails").to_string();
    for named in
        ["Contact record 1", "CreatedDate", "LastModifiedDate", "FIELD_INTEGRITY_EXCEPTION"]
    {
        assert!(err.contains(named), "{named} in {err}");
    }
}

#[tokio::test]
async fn user_edits_follow_salesforce_validation() {
    let sf = Sf::start().await;
    let id = sf.sim.create_as_user("Contact", json!({"LastName": "Ng"})).unwrap();
    let err = sf.sim.edit_as_user(&id, json!({"LastName": null})).unwrap_err();
    assert_eq!(err.code, "REQUIRED_FIELD_MISSING");
}

#[tokio::test]
async fn the_recycle_bin_is_emptied_after_its_retention() {
    let sf = Sf::start().await;
    let id = sf.contact("Ng").await;
    sf.sim.delete_as_user(&id).unwrap();
    sf.sim.clock().advance(Duration::days(14));
    assert_eq!(sf.sim.purge_recycle_bin(), 0);
    sf.sim.clock().advance(Duration::days(2));
    assert_eq!(sf.sim.purge_recycle_bin(), 1);
    assert!(sf.sim.record(&id).is_none());
}

#[tokio::test]
async fn a_shorter_recycle_bin_retention_empties_the_bin_sooner() {
    let config = SimConfig { recycle_bin_retention: Duration::days(2), ..test_config() };
    let sf = Sf::start_with(config).await;
    let id = sf.contact("Ng").await;
    sf.sim.delete_as_user(&id).unwrap();
    sf.sim.clock().advance(Duration::days(1));
    assert_eq!(sf.sim.purge_recycle_bin(), 0, "still within two days");
    sf.sim.clock().advance(Duration::days(1) + Duration::seconds(1));
    assert_eq!(sf.sim.purge_recycle_bin(), 1, "gone after two days, not fifteen");
    assert!(sf.sim.record(&id).is_none());
}

#[tokio::test]
async fn a_record_past_the_recycle_bin_retention_is_gone_from_every_read_without_a_deleted_call() {
    let sf = Sf::start().await;
    let gone = sf.contact("Gone").await;
    let kept = sf.contact("Kept").await;
    assert_eq!(sf.delete(&format!("/sobjects/Contact/{gone}")).await.status, 204);
    let binned = sf.query("SELECT Id FROM Contact WHERE IsDeleted = true", true).await;
    assert_eq!(binned.body["totalSize"], 1, "in the recycle bin: {}", binned.body);
    sf.sim.clock().advance(Duration::days(16));
    let sf = Sf { token: sf.sim.access_token(), ..sf };
    let all = sf.query("SELECT Id FROM Contact ORDER BY Id", true).await;
    let ids: Vec<&str> =
        all.body["records"].as_array().unwrap().iter().map(|r| r["Id"].as_str().unwrap()).collect();
    assert_eq!(ids, [kept.as_str()], "queryAll no longer returns the purged row");
    let read = sf.get(&format!("/sobjects/Contact/{gone}")).await;
    assert_eq!((read.status, read.error_code()), (404, "NOT_FOUND"));
    let retrieved = sf.get(&format!("/composite/sobjects/Contact?ids={gone}&fields=Id")).await;
    assert_eq!(retrieved.body, json!([null]));
    assert!(sf.sim.record(&gone).is_none());
}

#[tokio::test]
async fn record_datetimes_are_stamped_in_whole_seconds_so_writes_in_one_second_tie() {
    let sf = Sf::start().await;
    sf.sim.clock().freeze();
    let second = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap();
    sf.sim.clock().set(second + Duration::milliseconds(123));
    let first = sf.contact("First").await;
    sf.sim.clock().advance(Duration::milliseconds(600));
    let next = sf.contact("Next").await;
    let (a, b) = (sf.sim.record(&first).unwrap(), sf.sim.record(&next).unwrap());
    for field in ["SystemModstamp", "LastModifiedDate", "CreatedDate"] {
        assert_eq!(a[field], "2024-05-01T12:00:07.000+0000", "{field}");
        assert_eq!(a[field], b[field], "{field} ties");
    }
    sf.sim.clock().advance(Duration::milliseconds(100));
    sf.delete(&format!("/sobjects/Contact/{first}")).await;
    let window = "start=2024-05-01T11:59:00Z&end=2024-05-01T12:01:00Z";
    sf.sim.clock().advance(Duration::minutes(2));
    let deleted = sf.get(&format!("/sobjects/Contact/deleted/?{window}")).await;
    assert_eq!(deleted.body["deletedRecords"][0]["deletedDate"], "2024-05-01T12:00:07.000+0000");
}

#[tokio::test]
async fn with_millisecond_precision_writes_a_moment_apart_do_not_tie() {
    let config = SimConfig { datetime_precision: DatetimePrecision::Milliseconds, ..test_config() };
    let sf = Sf::start_with(config).await;
    sf.sim.clock().freeze();
    let second = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap();
    sf.sim.clock().set(second + Duration::milliseconds(123));
    let first = sf.contact("First").await;
    sf.sim.clock().advance(Duration::milliseconds(600));
    let next = sf.contact("Next").await;
    assert_eq!(sf.sim.record(&first).unwrap()["SystemModstamp"], "2024-05-01T12:00:07.123+0000");
    assert_eq!(sf.sim.record(&next).unwrap()["SystemModstamp"], "2024-05-01T12:00:07.723+0000");
}

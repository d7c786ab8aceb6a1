//! SOQL: the supported subset, its edge cases, paging, queryAll and refusals.

use chrono::{Duration, TimeZone, Utc};
use salesforce_sim::{CustomField, FieldType, SimConfig};
use serde_json::json;

use super::{Sf, V, column, test_config, test_seed};

/// Contacts with known names, titles, emails, counts and modstamps a minute apart.
async fn people() -> Sf {
    people_with(test_config()).await
}

async fn people_with(config: SimConfig) -> Sf {
    let sf = Sf::start_with(config).await;
    sf.sim.clock().freeze();
    sf.sim.clock().set(Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap());
    let rows = [
        ("Adams", Some("CTO"), Some("a@x.io"), "2001-02-03"),
        ("Baker", Some("CEO"), None, "1999-12-31"),
        ("Chen", None, Some("c@y.io"), "2001-02-03"),
        ("adams", Some("VP"), Some("d@x.io"), "1980-01-01"),
    ];
    for (last, title, email, birthdate) in rows {
        sf.create(
            "Contact",
            json!({"LastName": last, "Title": title, "Email": email, "Birthdate": birthdate}),
        )
        .await;
        sf.sim.clock().advance(Duration::minutes(1));
    }
    sf
}

#[tokio::test]
async fn datetime_literals_compare_with_system_modstamp() {
    let sf = people().await;
    let rows =
        sf.rows("SELECT LastName FROM Contact WHERE SystemModstamp > 2024-05-01T12:01:00Z").await;
    assert_eq!(column(&rows, "LastName"), ["Chen", "adams"]);
    let rows = sf
        .rows("SELECT LastName FROM Contact WHERE CreatedDate >= 2024-05-01T14:01:00+02:00")
        .await;
    assert_eq!(column(&rows, "LastName"), ["Baker", "Chen", "adams"]);
    let rows = sf
        .rows("SELECT LastName FROM Contact WHERE SystemModstamp < 2024-05-01T12:00:30.000Z")
        .await;
    assert_eq!(column(&rows, "LastName"), ["Adams"]);
}

#[tokio::test]
async fn date_literals_compare_date_fields() {
    let sf = people().await;
    let rows = sf
        .rows("SELECT LastName FROM Contact WHERE Birthdate = 2001-02-03 ORDER BY LastName")
        .await;
    assert_eq!(column(&rows, "LastName"), ["Adams", "Chen"]);
    let rows = sf
        .rows("SELECT LastName FROM Contact WHERE Birthdate < 2000-01-01 ORDER BY Birthdate")
        .await;
    assert_eq!(column(&rows, "LastName"), ["adams", "Baker"]);
}

#[tokio::test]
async fn order_by_two_keys_sorts_by_the_first_then_the_second() {
    let sf = people().await;
    let rows =
        sf.rows("SELECT LastName, Title FROM Contact ORDER BY LastName ASC, Title DESC").await;
    assert_eq!(column(&rows, "Title"), ["VP", "CTO", "CEO", "null"]);
    let rows =
        sf.rows("SELECT LastName FROM Contact ORDER BY Birthdate DESC, SystemModstamp DESC").await;
    assert_eq!(column(&rows, "LastName"), ["Chen", "Adams", "Baker", "adams"]);
}

#[tokio::test]
async fn nulls_sort_first_in_either_direction_unless_told_as_the_soql_reference_says() {
    let sf = people().await;
    let asc = sf.rows("SELECT Title FROM Contact ORDER BY Title").await;
    assert_eq!(column(&asc, "Title"), ["null", "CEO", "CTO", "VP"]);
    let desc = sf.rows("SELECT Title FROM Contact ORDER BY Title DESC").await;
    assert_eq!(column(&desc, "Title"), ["null", "VP", "CTO", "CEO"]);
    let last = sf.rows("SELECT Title FROM Contact ORDER BY Title ASC NULLS LAST").await;
    assert_eq!(column(&last, "Title"), ["CEO", "CTO", "VP", "null"]);
    let desc_last = sf.rows("SELECT Title FROM Contact ORDER BY Title DESC NULLS LAST").await;
    assert_eq!(column(&desc_last, "Title"), ["VP", "CTO", "CEO", "null"]);
}

#[tokio::test]
async fn with_the_switch_on_descending_keys_put_nulls_last_unless_told() {
    let sf = people_with(SimConfig { descending_nulls_last: true, ..test_config() }).await;
    let desc = sf.rows("SELECT Title FROM Contact ORDER BY Title DESC").await;
    assert_eq!(column(&desc, "Title"), ["VP", "CTO", "CEO", "null"]);
    let asc = sf.rows("SELECT Title FROM Contact ORDER BY Title").await;
    assert_eq!(column(&asc, "Title"), ["null", "CEO", "CTO", "VP"]);
    let first = sf.rows("SELECT Title FROM Contact ORDER BY Title DESC NULLS FIRST").await;
    assert_eq!(column(&first, "Title"), ["null", "VP", "CTO", "CEO"]);
    let asc_last = sf.rows("SELECT Title FROM Contact ORDER BY Title ASC NULLS LAST").await;
    assert_eq!(column(&asc_last, "Title"), ["CEO", "CTO", "VP", "null"]);
}

#[tokio::test]
async fn limit_caps_rows_and_total_size_and_offset_skips() {
    let sf = people().await;
    let answer = sf.query("SELECT Id FROM Contact ORDER BY SystemModstamp LIMIT 2", false).await;
    assert_eq!(answer.body["totalSize"], 2);
    assert_eq!(answer.body["done"], true);
    let rows =
        sf.rows("SELECT LastName FROM Contact ORDER BY SystemModstamp LIMIT 2 OFFSET 1").await;
    assert_eq!(column(&rows, "LastName"), ["Baker", "Chen"]);
    assert_eq!(sf.rows("SELECT Id FROM Contact LIMIT 0").await.len(), 0);
}

#[tokio::test]
async fn in_and_not_in_match_listed_values() {
    let sf = people().await;
    let rows = sf
        .rows("SELECT LastName FROM Contact WHERE Title IN ('CTO', 'vp') ORDER BY LastName")
        .await;
    assert_eq!(column(&rows, "LastName"), ["Adams", "adams"]);
    let rows = sf.rows("SELECT LastName FROM Contact WHERE Title NOT IN ('CTO', 'VP')").await;
    assert_eq!(column(&rows, "LastName"), ["Baker", "Chen"]);
    let ids = sf.rows("SELECT Id FROM Contact ORDER BY SystemModstamp LIMIT 1").await;
    let id = ids[0]["Id"].as_str().unwrap();
    let by_id =
        sf.rows(&format!("SELECT LastName FROM Contact WHERE Id IN ('{}')", &id[..15])).await;
    assert_eq!(column(&by_id, "LastName"), ["Adams"]);
}

#[tokio::test]
async fn null_comparisons_find_empty_and_filled_fields() {
    let sf = people().await;
    let rows = sf.rows("SELECT LastName FROM Contact WHERE Email = null").await;
    assert_eq!(column(&rows, "LastName"), ["Baker"]);
    let rows = sf.rows("SELECT LastName FROM Contact WHERE Title != null ORDER BY LastName").await;
    assert_eq!(rows.len(), 3);
    let rows = sf.rows("SELECT LastName FROM Contact WHERE Title != 'CTO'").await;
    assert_eq!(
        column(&rows, "LastName"),
        ["Baker", "Chen", "adams"],
        "!= keeps nulls, as SOQL does"
    );
    let bad = sf.query("SELECT Id FROM Contact WHERE Title > null", false).await;
    assert_eq!((bad.status, bad.error_code()), (400, "MALFORMED_QUERY"));
}

#[tokio::test]
async fn string_equality_ignores_case_and_like_matches_patterns() {
    let sf = people().await;
    assert_eq!(sf.rows("SELECT Id FROM Contact WHERE LastName = 'ADAMS'").await.len(), 2);
    let rows = sf.rows("SELECT LastName FROM Contact WHERE Email LIKE '%@x.io'").await;
    assert_eq!(column(&rows, "LastName"), ["Adams", "adams"]);
    let rows = sf.rows("SELECT LastName FROM Contact WHERE LastName LIKE 'b_ker'").await;
    assert_eq!(column(&rows, "LastName"), ["Baker"]);
}

#[tokio::test]
async fn and_or_not_and_parentheses_combine_conditions() {
    let sf = people().await;
    let q = "SELECT LastName FROM Contact WHERE (Title = 'CTO' OR Title = 'CEO') AND Email != null";
    assert_eq!(column(&sf.rows(q).await, "LastName"), ["Adams"]);
    let q = "SELECT LastName FROM Contact WHERE NOT (LastName = 'adams') AND Title != null";
    assert_eq!(column(&sf.rows(q).await, "LastName"), ["Baker"]);
    let q = "SELECT LastName FROM Contact WHERE Title = 'VP' OR Email = null OR LastName = 'Chen'";
    assert_eq!(sf.rows(q).await.len(), 3);
}

#[tokio::test]
async fn booleans_and_numbers_compare_by_value() {
    let sf = Sf::start().await;
    sf.create("Account", json!({"Name": "Small", "NumberOfEmployees": 9, "AnnualRevenue": 10.5}))
        .await;
    sf.create("Account", json!({"Name": "Big", "NumberOfEmployees": 100})).await;
    let rows = sf.rows("SELECT Name FROM Account WHERE NumberOfEmployees >= 10").await;
    assert_eq!(column(&rows, "Name"), ["Big"]);
    let rows =
        sf.rows("SELECT Name FROM Account WHERE AnnualRevenue < 11.0 AND IsDeleted = false").await;
    assert_eq!(column(&rows, "Name"), ["Small"]);
    let bad = sf.query("SELECT Id FROM Account WHERE NumberOfEmployees = '10'", false).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn records_carry_attributes_and_only_the_selected_fields() {
    let sf = people().await;
    let rows = sf.rows("SELECT Id, lastname FROM Contact LIMIT 1").await;
    let record = rows[0].as_object().unwrap();
    assert_eq!(record.len(), 3);
    assert_eq!(rows[0]["attributes"]["type"], "Contact");
    assert!(
        rows[0]["attributes"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("/services/data/{V}/sobjects/Contact/"))
    );
    assert!(record.contains_key("LastName"));
}

#[tokio::test]
async fn malformed_queries_answer_400_malformed_query() {
    let sf = people().await;
    for soql in [
        "SELECT FROM Contact",
        "SELECT Id Contact",
        "SELECT Id FROM Contact WHERE",
        "SELECT Id FROM Contact WHERE LastName = 'open",
        "SELECT Id FROM Contact WHERE LastName = 'a' AND Title = 'b' OR Email = null",
        "SELECT Id FROM Contact LIMIT -1",
        "SELECT Id FROM Contact ORDER LastName",
        "SELECT Id, Id FROM Contact",
        "SELECT Id FROM Contact WHERE LastName IN 'a'",
        "DELETE FROM Contact",
        "",
    ] {
        let answer = sf.query(soql, false).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (400, "MALFORMED_QUERY"),
            "{soql}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn unsupported_soql_is_refused_naming_what_is_unsupported() {
    let sf = people().await;
    for (soql, named) in [
        ("SELECT COUNT(Id) FROM Contact", "COUNT()"),
        ("SELECT Account.Name FROM Contact", "Account.Name"),
        ("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:7", "LAST_N_DAYS"),
        ("SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)", "subquery"),
        ("SELECT Id FROM Contact GROUP BY Id", "GROUP"),
        ("SELECT Id FROM Contact WHERE Id = :id", ":id"),
        ("SELECT Id FROM Contact FOR UPDATE", "FOR"),
    ] {
        let answer = sf.query(soql, false).await;
        assert_eq!((answer.status, answer.error_code()), (400, "MALFORMED_QUERY"), "{soql}");
        let message = answer.body[0]["message"].as_str().unwrap();
        assert!(message.contains(named) && message.contains("not supported"), "{soql}: {message}");
    }
}

#[tokio::test]
async fn typeof_and_object_aliases_are_refused_as_unsupported_by_the_simulator() {
    let sf = people().await;
    for (soql, named) in [
        ("SELECT Id, TYPEOF What WHEN Account THEN Name ELSE Subject END FROM Task", "TYPEOF"),
        ("SELECT c.LastName FROM Contact c", "object alias c"),
        ("SELECT LastName FROM Contact c WHERE LastName = 'Chen'", "object alias c"),
    ] {
        let answer = sf.query(soql, false).await;
        assert_eq!((answer.status, answer.error_code()), (400, "MALFORMED_QUERY"), "{soql}");
        let message = answer.body[0]["message"].as_str().unwrap();
        assert!(message.contains(named), "{soql}: {message}");
        assert!(message.contains("not supported by the simulator"), "{soql}: {message}");
    }
}

#[tokio::test]
async fn a_field_alias_outside_an_aggregate_is_malformed_soql_and_the_message_names_it() {
    let sf = people().await;
    let answer = sf.query("SELECT Id, LastName surname FROM Contact", false).await;
    assert_eq!((answer.status, answer.error_code()), (400, "MALFORMED_QUERY"));
    let message = answer.body[0]["message"].as_str().unwrap();
    assert!(message.contains("field alias surname of LastName"), "{message}");
    assert!(message.contains("only aggregate expressions use field aliasing"), "{message}");
}

#[tokio::test]
async fn unknown_names_and_mistyped_literals_are_refused() {
    let sf = people().await;
    let answer = sf.query("SELECT Shoe__c FROM Contact", false).await;
    assert_eq!(answer.error_code(), "INVALID_FIELD");
    let answer = sf.query("SELECT Id FROM Nope", false).await;
    assert_eq!(answer.error_code(), "INVALID_TYPE");
    let answer = sf
        .query("SELECT Id FROM Contact WHERE SystemModstamp > '2024-05-01T00:00:00Z'", false)
        .await;
    assert_eq!(answer.error_code(), "INVALID_FIELD");
    let answer = sf.query("SELECT Id FROM Contact WHERE SystemModstamp > 2024-05-01", false).await;
    assert_eq!(answer.error_code(), "INVALID_FIELD");
    let answer = sf.query("SELECT Id FROM Contact WHERE Description = 'x'", false).await;
    assert_eq!(answer.error_code(), "INVALID_FIELD", "long text cannot be filtered");
    let answer = sf.query("SELECT Id FROM Contact WHERE Id = 'banana'", false).await;
    assert_eq!(answer.error_code(), "INVALID_QUERY_FILTER_OPERATOR");
}

#[tokio::test]
async fn order_by_a_multi_select_picklist_or_long_text_answers_invalid_field() {
    let hobbies = CustomField {
        kind: FieldType::Multipicklist,
        picklist_values: vec!["Golf".into(), "Chess".into()],
        ..CustomField::text("Hobbies__c")
    };
    let seed = test_seed().with_field("Contact", hobbies);
    let sf = Sf::start_with(SimConfig { seed, ..test_config() }).await;
    sf.create("Contact", json!({"LastName": "A", "Hobbies__c": "Golf;Chess"})).await;
    for (soql, field) in [
        ("SELECT Id FROM Contact ORDER BY Hobbies__c", "Hobbies__c"),
        ("SELECT Id FROM Contact ORDER BY LastName, hobbies__c DESC", "Hobbies__c"),
        ("SELECT Id FROM Contact ORDER BY Description", "Description"),
    ] {
        let answer = sf.query(soql, false).await;
        assert_eq!((answer.status, answer.error_code()), (400, "INVALID_FIELD"), "{soql}");
        let expected = format!("field '{field}' can not be sorted in a query call");
        assert_eq!(answer.body[0]["message"], expected.as_str());
    }
    let rows = sf.rows("SELECT Hobbies__c FROM Contact WHERE Hobbies__c != null").await;
    assert_eq!(column(&rows, "Hobbies__c"), ["Golf;Chess"], "selecting and filtering still work");
    let described = sf.get("/sobjects/Contact/describe").await.body;
    let flags = |name: &str| {
        let fields = described["fields"].as_array().unwrap();
        let field = fields.iter().find(|f| f["name"] == name).unwrap();
        (field["sortable"].clone(), field["filterable"].clone())
    };
    assert_eq!(flags("Hobbies__c"), (json!(false), json!(true)), "describe agrees");
    assert_eq!(flags("Description"), (json!(false), json!(false)));
}

#[tokio::test]
async fn query_pages_follow_next_records_url_with_the_requested_batch_size() {
    let sf = Sf::start().await;
    let records: Vec<_> = (0..450)
        .map(|i| json!({"attributes": {"type": "Contact"}, "LastName": format!("C{i:03}")}))
        .collect();
    for chunk in records.chunks(200) {
        sf.post("/composite/sobjects", json!({"records": chunk})).await;
    }
    let first = sf
        .http
        .get(format!("{}/query", sf.sim.data_url(V)))
        .query(&[("q", "SELECT LastName FROM Contact ORDER BY LastName")])
        .header("Sforce-Query-Options", "batchSize=200")
        .bearer_auth(&sf.token)
        .send()
        .await
        .unwrap();
    let mut page = super::answer(first).await.body;
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        assert_eq!(page["totalSize"], 450);
        names.extend(column(page["records"].as_array().unwrap(), "LastName"));
        if page["done"] == true {
            assert!(page.get("nextRecordsUrl").is_none());
            break;
        }
        let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
        assert!(next.starts_with(&format!("/services/data/{V}/query/")), "{next}");
        page = sf.get(&next).await.body;
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 450);
    assert_eq!(names[0], "C000");
    assert_eq!(names[449], "C449");
}

#[tokio::test]
async fn a_batch_size_below_200_is_raised_to_200() {
    let sf = Sf::start().await;
    let records: Vec<_> = (0..201)
        .map(|i| json!({"attributes": {"type": "Contact"}, "LastName": format!("C{i}")}))
        .collect();
    sf.post("/composite/sobjects", json!({"records": &records[..200]})).await;
    sf.post("/composite/sobjects", json!({"records": &records[200..]})).await;
    let answer = sf
        .call_with(
            reqwest::Method::GET,
            "/query?q=SELECT+Id+FROM+Contact",
            None,
            &[("Sforce-Query-Options", "batchSize=10")],
        )
        .await;
    assert_eq!(answer.body["records"].as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn query_all_includes_deleted_and_merged_rows_and_query_does_not() {
    let sf = people().await;
    let ids = column(&sf.rows("SELECT Id FROM Contact ORDER BY SystemModstamp").await, "Id");
    sf.sim.delete_as_user(&ids[0]).unwrap();
    sf.sim.merge(&ids[1], &[&ids[2]]).unwrap();
    assert_eq!(sf.rows("SELECT Id FROM Contact").await.len(), 2);
    let all = sf
        .query(
            "SELECT Id, IsDeleted, MasterRecordId FROM Contact ORDER BY SystemModstamp, Id",
            true,
        )
        .await;
    let rows = all.body["records"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let merged = rows.iter().find(|r| r["Id"] == ids[2].as_str()).unwrap();
    assert_eq!(merged["IsDeleted"], true);
    assert_eq!(merged["MasterRecordId"], ids[1].as_str());
    let q = "SELECT Id FROM Contact WHERE IsDeleted = true AND MasterRecordId != null";
    assert_eq!(
        column(sf.query(q, true).await.body["records"].as_array().unwrap(), "Id"),
        [ids[2].clone()]
    );
}

#[tokio::test]
async fn query_all_pages_continue_at_the_query_locator_path() {
    let sf = Sf::start().await;
    let records: Vec<_> = (0..250)
        .map(|i| json!({"attributes": {"type": "Contact"}, "LastName": format!("C{i}")}))
        .collect();
    let created = sf.post("/composite/sobjects", json!({"records": &records[..200]})).await.body;
    sf.post("/composite/sobjects", json!({"records": &records[200..]})).await;
    sf.sim.delete_as_user(created[0]["id"].as_str().unwrap()).unwrap();
    let first = sf
        .call_with(
            reqwest::Method::GET,
            "/queryAll?q=SELECT+Id+FROM+Contact",
            None,
            &[("Sforce-Query-Options", "batchSize=200")],
        )
        .await;
    assert_eq!(first.body["totalSize"], 250);
    let next = first.body["nextRecordsUrl"].as_str().unwrap();
    assert!(next.contains("/query/"), "{next}");
    let as_query_all = next.replace("/query/", "/queryAll/");
    assert_eq!(sf.get(&as_query_all).await.body["records"].as_array().unwrap().len(), 50);
    let again = sf.get(next).await;
    assert_eq!(again.error_code(), "INVALID_QUERY_LOCATOR", "a cursor closes after its last page");
}

#[tokio::test]
async fn an_unknown_query_locator_answers_invalid_query_locator() {
    let sf = Sf::start().await;
    let answer = sf.get("/query/0r8SIM000000000999-200").await;
    assert_eq!((answer.status, answer.error_code()), (400, "INVALID_QUERY_LOCATOR"));
}

#[tokio::test]
async fn a_cursor_expires_after_two_days() {
    let mut sf = Sf::start().await;
    let records: Vec<_> = (0..201)
        .map(|i| json!({"attributes": {"type": "Contact"}, "LastName": format!("C{i}")}))
        .collect();
    sf.post("/composite/sobjects", json!({"records": &records[..200]})).await;
    sf.post("/composite/sobjects", json!({"records": &records[200..]})).await;
    let first = sf
        .call_with(
            reqwest::Method::GET,
            "/query?q=SELECT+Id+FROM+Contact",
            None,
            &[("Sforce-Query-Options", "batchSize=200")],
        )
        .await;
    sf.sim.clock().advance(Duration::days(2) + Duration::minutes(1));
    sf.token = sf.sim.access_token();
    let next = first.body["nextRecordsUrl"].as_str().unwrap();
    assert_eq!(sf.get(next).await.error_code(), "INVALID_QUERY_LOCATOR");
}

#[tokio::test]
async fn count_answers_the_number_of_matching_rows_with_no_records() {
    let sf = people().await;
    let answer = sf.query("SELECT COUNT() FROM Contact WHERE Title != null", false).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["totalSize"], 3);
    assert_eq!(answer.body["records"], json!([]));
    assert_eq!(answer.body["done"], true);
}

#[tokio::test]
async fn a_persons_name_is_the_read_only_compound_of_first_and_last_name() {
    let sf = people().await;
    let id = sf.create("Contact", json!({"FirstName": "Ann", "LastName": "Lee"})).await;
    let rows = sf.rows("SELECT Name FROM Contact WHERE Name = 'ann lee'").await;
    assert_eq!(column(&rows, "Name"), ["Ann Lee"]);
    let rows = sf.rows("SELECT Name FROM Contact WHERE LastName = 'Baker'").await;
    assert_eq!(column(&rows, "Name"), ["Baker"], "no first name: the last name alone");

    let renamed = sf.patch(&format!("/sobjects/Contact/{id}"), json!({"FirstName": "Anne"})).await;
    assert_eq!(renamed.status, 204, "{}", renamed.body);
    let rows = sf.rows(&format!("SELECT Name FROM Contact WHERE Id = '{id}'")).await;
    assert_eq!(column(&rows, "Name"), ["Anne Lee"], "kept by every write");
    let refused = sf.patch(&format!("/sobjects/Contact/{id}"), json!({"Name": "X"})).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body[0]["errorCode"], "INVALID_FIELD_FOR_INSERT_UPDATE", "{}", refused.body);
    let lead =
        sf.create("Lead", json!({"FirstName": "Bo", "LastName": "Ng", "Company": "Acme"})).await;
    let rows = sf.rows(&format!("SELECT Name FROM Lead WHERE Id = '{lead}'")).await;
    assert_eq!(column(&rows, "Name"), ["Bo Ng"]);
}

//! Reads: by id and unique value, full backfill, archived records, owners, properties and
//! associations.

use chrono::Utc;
use hubspot_sim::RateProfile;
use hubspot_sim::types::TypeRegistry;
use hubsync::connector::{AssociationLink, Connector, FieldKind, Lookup, ReadResult};
use serde_json::json;

use super::*;

/// A custom property the simulator returns only when asked for it.
const COLOUR: &str = "favourite_colour";

fn add_colour(sim: &hubspot_sim::HubspotSim) {
    sim.create_property(
        "contacts",
        json!({"name": COLOUR, "label": "Favourite colour", "type": "string",
               "fieldType": "text", "groupName": "contactinformation"}),
    )
    .expect("property created");
}

#[tokio::test]
async fn records_are_read_by_id_and_by_unique_value_and_a_missing_one_is_not_found() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_colour(&sim);
    let ann = json!({"email": "a@x.com", "firstname": "Ann", COLOUR: "teal"});
    let id = sim.seed("contacts", ann).unwrap();
    let hubspot = connector(&sim, generous());
    let fields = vec!["firstname".to_string(), COLOUR.to_string()];
    let by_id = hubspot
        .read_batch("contacts", &Lookup::Id, &[id.to_string(), "424242".into()], &fields)
        .await
        .unwrap();
    let ReadResult::Found(record) = &by_id[0] else { panic!("{by_id:?}") };
    assert_eq!(record.properties["firstname"], "Ann");
    assert_eq!(record.properties[COLOUR], "teal", "the custom property was asked for");
    assert_eq!(by_id[1], ReadResult::NotFound);
    let by_email = hubspot
        .read_batch("contacts", &Lookup::Unique("email".into()), &["A@x.com".into()], &fields)
        .await
        .unwrap();
    assert!(matches!(&by_email[0], ReadResult::Found(r) if r.id == id.to_string()));
    let ReadResult::Found(record) = &by_email[0] else { unreachable!() };
    assert_eq!(record.properties[COLOUR], "teal");
}

#[tokio::test]
async fn a_backfill_lists_every_live_record_with_many_properties_and_archives_show_as_deletes() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_colour(&sim);
    let mut ids = Vec::new();
    for i in 0..230 {
        let properties = json!({"firstname": format!("n{i}"), COLOUR: format!("c{i}")});
        ids.push(sim.seed("contacts", properties).unwrap());
    }
    let before = Utc::now() - chrono::Duration::seconds(5);
    sim.archive_as_user("contacts", ids[0], 1).unwrap();
    let hubspot = connector(&sim, generous());
    // far more property names than a query string could carry: the simulator answers 414
    // to a request URI over 8 KB, as HubSpot's servers do
    let mut fields: Vec<String> = (0..800).map(|i| format!("custom_property_number_{i}")).collect();
    fields.push("firstname".into());
    fields.push(COLOUR.into());
    let mut page = None;
    let mut records = Vec::new();
    loop {
        let got = hubspot.read_all("contacts", page.as_deref(), &fields).await.unwrap();
        records.extend(got.records);
        match got.next {
            Some(next) => page = Some(next),
            None => break,
        }
    }
    assert_eq!(records.len(), 229);
    assert!(records.iter().all(|r| r.properties.contains_key("firstname")));
    for record in &records {
        let i = ids.iter().position(|id| id.to_string() == record.id).unwrap();
        assert_eq!(record.properties[COLOUR], format!("c{i}"), "{}", record.id);
    }
    assert_eq!(sim.stats().total_with_status(414), 0);
    let deleted = hubspot.read_deletes("contacts", before).await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].id, ids[0].to_string());
}

#[tokio::test]
async fn the_simulator_refuses_a_long_property_list_in_a_query_string_with_414() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let fields: Vec<String> = (0..800).map(|i| format!("custom_property_number_{i}")).collect();
    let url = format!("{}/crm/v3/objects/contacts?properties={}", sim.base_url(), fields.join(","));
    let answer = reqwest::Client::new().get(url).bearer_auth(sim.token()).send().await.unwrap();
    assert_eq!(answer.status(), 414);
    let short = format!("{}/crm/v3/objects/contacts?properties=firstname", sim.base_url());
    let answer = reqwest::Client::new().get(short).bearer_auth(sim.token()).send().await.unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn properties_describe_types_options_and_unique_flags() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let described = connector(&sim, generous()).describe("contacts").await.unwrap();
    let ext = described.field("ext_id").unwrap();
    assert!(ext.unique && !ext.read_only);
    assert!(described.field("hs_object_id").unwrap().read_only);
    let stage = described.field("lifecyclestage").unwrap();
    assert_eq!(stage.kind, FieldKind::Enumeration);
    assert!(!stage.options.is_empty());
}

#[tokio::test]
async fn owners_are_listed() {
    let sim = sim(RateProfile::UNLIMITED).await;
    sim.add_owner(json!({"email": "owner@x.com"}));
    let owners = connector(&sim, generous()).owners().await.unwrap();
    assert!(owners.iter().any(|o| o.email.as_deref() == Some("owner@x.com")));
}

#[tokio::test]
async fn associations_are_created_read_and_removed_in_batches() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let contact = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap().to_string();
    let company = sim.seed("companies", json!({"name": "Acme"})).unwrap().to_string();
    let hubspot = connector(&sim, generous());
    let link = AssociationLink { from_id: contact.clone(), to_id: company.clone(), label: None };
    let created =
        hubspot.create_associations("contacts", "companies", std::slice::from_ref(&link)).await;
    assert!(created.unwrap()[0].is_success());
    let read =
        hubspot.read_associations("contacts", "companies", std::slice::from_ref(&contact)).await;
    let read = read.unwrap();
    assert!(read[0].links.iter().any(|l| l.to_id == company));
    let removed = hubspot.remove_associations("contacts", "companies", &[link]).await.unwrap();
    assert!(removed[0].is_success());
    let read = hubspot.read_associations("contacts", "companies", &[contact]).await.unwrap();
    assert!(read[0].links.is_empty());
}

/// Creates the custom object `vendor` with `properties`, `vendor_id` required.
async fn create_vendor_schema(sim: &hubspot_sim::HubspotSim, properties: Value) {
    let egg = json!({
        "name": "vendor",
        "labels": {"singular": "Vendor", "plural": "Vendors"},
        "properties": properties,
        "requiredProperties": ["vendor_id"],
        "associatedObjects": ["CONTACT"],
        "primaryDisplayProperty": "vendor_id"
    });
    let url = format!("{}/crm/v3/schemas", sim.base_url());
    let created = reqwest::Client::new().post(url).bearer_auth(sim.token()).json(&egg).send();
    assert_eq!(created.await.unwrap().status(), 201);
}

#[tokio::test]
async fn custom_object_types_are_discovered_from_the_schemas_api() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let vendor_id = json!({"name": "vendor_id", "label": "Vendor id", "type": "string",
                           "fieldType": "text", "hasUniqueValue": true});
    create_vendor_schema(&sim, json!([vendor_id])).await;
    let hubspot = connector(&sim, generous());
    let objects = hubspot.custom_objects().await.unwrap();
    assert_eq!(objects.len(), 1);
    assert!(objects[0].type_id.starts_with("2-"));
    assert_eq!(objects[0].required, vec!["vendor_id".to_string()]);
    let described = hubspot.describe(&objects[0].type_id).await.unwrap();
    assert!(described.field("vendor_id").unwrap().unique);
}

#[tokio::test]
async fn the_required_flags_of_standard_objects_match_what_the_simulator_requires() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let hubspot = connector(&sim, generous());
    for object in TypeRegistry::standard().all() {
        let described = hubspot.describe(&object.name).await.unwrap();
        let mut required: Vec<&str> =
            described.fields.iter().filter(|f| f.required).map(|f| f.name.as_str()).collect();
        let mut expected: Vec<&str> = object.required.iter().map(String::as_str).collect();
        required.sort_unstable();
        expected.sort_unstable();
        assert_eq!(required, expected, "{}", object.name);
    }
}

#[tokio::test]
async fn a_custom_object_reports_its_schemas_required_properties() {
    let sim = sim(RateProfile::UNLIMITED).await;
    create_vendor_schema(
        &sim,
        json!([
            {"name": "vendor_id", "label": "Vendor id", "type": "string", "fieldType": "text"},
            {"name": "country", "label": "Country", "type": "string", "fieldType": "text"}
        ]),
    )
    .await;
    let hubspot = connector(&sim, generous());
    let vendor = hubspot.custom_objects().await.unwrap().remove(0);
    for name in [&vendor.type_id, &vendor.fully_qualified_name] {
        let described = hubspot.describe(name).await.unwrap();
        assert!(described.field("vendor_id").unwrap().required, "{name}");
        assert!(!described.field("country").unwrap().required, "{name}");
    }
}

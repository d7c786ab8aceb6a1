//! Associations as lookup fields: each link's label names its field, and a bad link fails
//! alone.

use hubsync::connector::{AssociationLink, Connector, ItemResult};
use salesforce_sim::CustomField;

use super::*;

const PARTNER: &str = "Partner_Account__c";

/// Contacts with a second lookup to Account beside `AccountId`.
async fn sim_with_partner_lookup() -> SalesforceSim {
    crate::support::init_test_log();
    let mut partner = CustomField::text(PARTNER);
    partner.kind = salesforce_sim::FieldType::Reference;
    partner.reference_to = vec!["Account".into()];
    let seed =
        Seed::default().with_external_id("Contact", KEY_FIELD, true).with_field("Contact", partner);
    SalesforceSim::start(SimConfig { seed, daily_api_limit: 1_000_000, ..SimConfig::default() })
        .await
        .expect("simulator starts")
}

fn link(from: &str, to: &str, label: Option<&str>) -> AssociationLink {
    AssociationLink { from_id: from.into(), to_id: to.into(), label: label.map(String::from) }
}

#[tokio::test]
async fn a_link_to_a_missing_account_fails_alone_and_its_batch_mates_land() {
    let sim = sim().await;
    let salesforce = connector(&sim);
    let mut links = Vec::new();
    for i in 0..5 {
        let contact = sim.seed("Contact", json!({"LastName": format!("C{i}")})).unwrap();
        let account = sim.seed("Account", json!({"Name": format!("A{i}")})).unwrap();
        links.push(link(&contact, &account, Some("AccountId")));
    }
    let gone = links[2].to_id.clone();
    sim.delete_as_user(&gone).unwrap();
    let results = salesforce.create_associations("Contact", "Account", &links).await.unwrap();
    for (i, result) in results.iter().enumerate() {
        match i {
            2 => assert!(matches!(result, ItemResult::Permanent { .. }), "{result:?}"),
            _ => assert!(result.is_success(), "{i}: {result:?}"),
        }
    }
    for (i, link) in links.iter().enumerate().filter(|(i, _)| *i != 2) {
        assert_eq!(sim.record(&link.from_id).unwrap()["AccountId"], json!(link.to_id), "{i}");
    }
}

#[tokio::test]
async fn links_with_different_labels_in_one_call_each_set_their_own_lookup_field() {
    let sim = sim_with_partner_lookup().await;
    let salesforce = connector(&sim);
    let contact = sim.seed("Contact", json!({"LastName": "Ng"})).unwrap();
    let other = sim.seed("Contact", json!({"LastName": "Oh"})).unwrap();
    let employer = sim.seed("Account", json!({"Name": "Acme"})).unwrap();
    let partner = sim.seed("Account", json!({"Name": "Partner"})).unwrap();
    let links = [
        link(&contact, &employer, Some("AccountId")),
        link(&other, &partner, Some(PARTNER)),
        link(&contact, &partner, Some(PARTNER)),
    ];
    let results = salesforce.create_associations("Contact", "Account", &links).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success), "{results:?}");
    let (first, second) = (sim.record(&contact).unwrap(), sim.record(&other).unwrap());
    assert_eq!(first["AccountId"], json!(employer));
    assert_eq!(first[PARTNER], json!(partner));
    assert_eq!(second[PARTNER], json!(partner));
    assert!(second["AccountId"].is_null(), "{second}");
    let removed = salesforce.remove_associations("Contact", "Account", &links[2..]).await.unwrap();
    assert!(removed[0].is_success());
    let first = sim.record(&contact).unwrap();
    assert!(first[PARTNER].is_null(), "the labelled link is gone");
    assert_eq!(first["AccountId"], json!(employer), "the other lookup stays");
}

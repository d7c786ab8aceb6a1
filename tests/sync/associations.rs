//! Associations: HubSpot contact↔company travels as Salesforce Contact.AccountId, both ways.

use std::time::Duration;

use serde_json::json;

use super::{CONTACTS, Rig};

const SETTLE: Duration = Duration::from_secs(60);

const COMPANIES: &str = r#"
[[sync]]
name = "companies"
hubspot_object = "companies"
external_connector = "salesforce"
external_object = "Account"
keys = { hubspot_unique_property = "salesforce_id", external_id_field = "HubSpot_Id__c" }
fields = [{ hubspot = "name", external = "Name" }]
"#;

fn rules() -> String {
    let contacts = CONTACTS.replace("CONFLICT", "newest_wins").replace("DELETE", "flag");
    format!(
        "{contacts}\n[[sync.associations]]\nto = \"companies\"\nexternal_field = \"AccountId\"\n{COMPANIES}"
    )
}

/// A contact at a company on each side, synced: HubSpot's Acme contact and Salesforce's
/// Globex contact, with their partners and their companies' partners.
struct Scene {
    /// HubSpot's Acme company and contact.
    company: u64,
    contact: u64,
    /// Salesforce's Globex contact.
    sf_contact: String,
    /// The Acme contact's Salesforce partner, and Acme's account.
    contact_sf: String,
    acme_account: String,
    /// The Globex contact's HubSpot partner, and Globex's HubSpot company.
    hubspot_contact: String,
    globex: String,
}

async fn two_contacts_at_companies(rig: &Rig) -> Scene {
    // HubSpot: a contact at a company
    let company = rig.hubspot.create_as_user("companies", json!({"name": "Acme"}), 7).unwrap();
    let contact = rig
        .hubspot
        .create_as_user("contacts", json!({"email": "a@acme.com", "lastname": "A"}), 7)
        .unwrap();
    rig.hubspot.associate(("contacts", contact), ("companies", company), None).unwrap();
    // Salesforce: a contact at an account
    let account = rig.salesforce.seed("Account", json!({"Name": "Globex"})).unwrap();
    let sf_contact = rig
        .salesforce
        .seed("Contact", json!({"Email": "g@globex.com", "LastName": "G", "AccountId": account}))
        .unwrap();
    rig.wait_for("both contacts and companies linked", SETTLE, || async {
        rig.links("contacts").await.len() == 2 && rig.links("companies").await.len() == 2
    })
    .await;
    rig.quiesce(SETTLE).await;
    let (contacts, companies) = (rig.links("contacts").await, rig.links("companies").await);
    let external = |links: &[(String, String)], hubspot: u64| {
        links.iter().find(|(h, _)| *h == hubspot.to_string()).expect("linked").1.clone()
    };
    let hubspot = |links: &[(String, String)], external: &str| {
        links.iter().find(|(_, e)| e == external).expect("linked").0.clone()
    };
    Scene {
        contact_sf: external(&contacts, contact),
        acme_account: external(&companies, company),
        hubspot_contact: hubspot(&contacts, &sf_contact),
        globex: hubspot(&companies, &account),
        company,
        contact,
        sf_contact,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contacts_company_travels_both_ways_once_both_records_are_linked() {
    let rig = Rig::start(&rules()).await;
    let scene = two_contacts_at_companies(&rig).await;
    let account = &rig.salesforce_record(&scene.contact_sf)["AccountId"];
    assert_eq!(account, scene.acme_account.as_str());
    assert_eq!(
        companies_of(&rig, &scene.hubspot_contact).await,
        vec![scene.globex],
        "the Salesforce account became the HubSpot association"
    );
    let writes = rig.write_count().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.write_count().await, writes, "association echoes write nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_company_removed_from_a_contact_on_either_side_is_removed_on_the_other() {
    let rig = Rig::start_with_webhooks(&rules()).await;
    let scene = two_contacts_at_companies(&rig).await;
    let Scene { company, contact, contact_sf, hubspot_contact, sf_contact, .. } = &scene;
    assert!(rig.salesforce_record(contact_sf)["AccountId"].is_string());
    assert_eq!(companies_of(&rig, hubspot_contact).await.len(), 1);

    // on HubSpot, the contact leaves Acme: its Salesforce contact loses the account
    rig.hubspot.dissociate(("contacts", *contact), ("companies", *company)).unwrap();
    rig.wait_for("the Salesforce contact to lose its account", SETTLE, || async {
        rig.salesforce_record(contact_sf)["AccountId"].is_null()
    })
    .await;
    // on Salesforce, the other contact leaves Globex: the HubSpot association goes
    rig.salesforce.edit_as_user(sf_contact, json!({"AccountId": null})).unwrap();
    rig.wait_for("the HubSpot contact to lose its company", SETTLE, || async {
        companies_of(&rig, hubspot_contact).await.is_empty()
    })
    .await;

    rig.quiesce(SETTLE).await;
    let writes = rig.write_count().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.write_count().await, writes, "the removals' echoes write nothing");
    assert!(rig.salesforce_record(contact_sf)["AccountId"].is_null(), "no company came back");
    assert!(companies_of(&rig, hubspot_contact).await.is_empty(), "no account came back");
    assert_eq!(rig.links("companies").await.len(), 2, "the companies stay linked");
}

/// The HubSpot companies a HubSpot contact is associated with.
async fn companies_of(rig: &Rig, contact: &str) -> Vec<String> {
    let ids = [contact.to_string()];
    let sets = rig.hubspot_api.read_associations("contacts", "companies", &ids).await.unwrap();
    sets.iter().flat_map(|s| s.links.iter().map(|l| l.to_id.clone())).collect()
}

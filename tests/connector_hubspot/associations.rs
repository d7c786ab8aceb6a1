//! Association writes in batches: a bad link fails alone, whether HubSpot names it in a
//! 207, names only one of its records, or refuses the whole batch; labels are created and
//! removed one by one.

use hubspot_sim::{HubspotSim, RateProfile};
use hubsync::connector::{AssociationLink, Connector, ItemResult};
use serde_json::json;

use super::*;

/// The type id of contact → company Primary; HubSpot adds the unlabelled 279 with it.
const PRIMARY: &str = "1";

/// One contact and `n` companies; returns their ids.
fn records(sim: &HubspotSim, n: usize) -> (String, Vec<String>) {
    let contact = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap().to_string();
    let companies = (0..n)
        .map(|i| sim.seed("companies", json!({"name": format!("C{i}")})).unwrap().to_string())
        .collect();
    (contact, companies)
}

fn links(from: &str, to: &[String], label: Option<&str>) -> Vec<AssociationLink> {
    to.iter()
        .map(|to| AssociationLink {
            from_id: from.into(),
            to_id: to.clone(),
            label: label.map(String::from),
        })
        .collect()
}

/// The companies `contact` is linked to, with each link's label.
async fn linked(hubspot: &HubspotConnector, contact: &str) -> Vec<(String, String)> {
    let ids = [contact.to_string()];
    let read = hubspot.read_associations("contacts", "companies", &ids).await.unwrap();
    let mut pairs: Vec<(String, String)> = read[0]
        .links
        .iter()
        .map(|l| (l.to_id.clone(), l.label.clone().unwrap_or_default()))
        .collect();
    pairs.sort();
    pairs
}

/// Every result succeeded except the one at `bad`, which is permanent.
fn only_bad_failed(results: &[ItemResult], bad: usize) {
    for (i, result) in results.iter().enumerate() {
        if i == bad {
            assert!(matches!(result, ItemResult::Permanent { .. }), "{i}: {result:?}");
        } else {
            assert!(result.is_success(), "{i}: {result:?}");
        }
    }
}

#[tokio::test]
async fn a_labelled_link_to_a_missing_company_fails_alone_among_links_of_the_same_contact() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let hubspot = connector(&sim, generous());
    let (contact, mut companies) = records(&sim, 4);
    companies.insert(2, "999999".into());
    let results = hubspot
        .create_associations("contacts", "companies", &links(&contact, &companies, Some("279")))
        .await
        .unwrap();
    only_bad_failed(&results, 2);
    assert_eq!(linked(&hubspot, &contact).await.len(), 4);
}

#[tokio::test]
async fn a_default_link_to_a_missing_company_fails_alone_though_its_error_names_only_the_contact() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let hubspot = connector(&sim, generous());
    let (contact, mut companies) = records(&sim, 4);
    companies.insert(3, "999999".into());
    let results = hubspot
        .create_associations("contacts", "companies", &links(&contact, &companies, None))
        .await
        .unwrap();
    only_bad_failed(&results, 3);
    assert_eq!(linked(&hubspot, &contact).await.len(), 4);
}

#[tokio::test]
async fn a_label_removal_refused_as_a_whole_for_one_bad_label_still_removes_the_others() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let hubspot = connector(&sim, generous());
    let (contact, companies) = records(&sim, 5);
    let primary = links(&contact, &companies, Some(PRIMARY));
    let created = hubspot.create_associations("contacts", "companies", &primary).await.unwrap();
    assert!(created.iter().all(ItemResult::is_success), "{created:?}");
    let mut removal = primary.clone();
    // HubSpot refuses the whole labels/archive batch for a type id it does not know
    removal[1].label = Some("USER_DEFINED:424242".into());
    let results = hubspot.remove_associations("contacts", "companies", &removal).await.unwrap();
    only_bad_failed(&results, 1);
    let left = linked(&hubspot, &contact).await;
    let primaries: Vec<&String> =
        left.iter().filter(|(_, label)| label == PRIMARY).map(|(to, _)| to).collect();
    assert_eq!(primaries, vec![&companies[1]], "only the badly labelled link kept Primary");
}

#[tokio::test]
async fn a_labelled_link_is_created_and_removed_without_touching_the_pairs_other_labels() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let hubspot = connector(&sim, generous());
    let (contact, companies) = records(&sim, 1);
    let company = companies[0].clone();
    let primary = links(&contact, &companies, Some(PRIMARY));
    let created = hubspot.create_associations("contacts", "companies", &primary).await.unwrap();
    assert!(created[0].is_success(), "{created:?}");
    let both = vec![(company.clone(), PRIMARY.to_string()), (company.clone(), "279".to_string())];
    let mut expected = both.clone();
    expected.sort();
    assert_eq!(linked(&hubspot, &contact).await, expected);
    let removed = hubspot.remove_associations("contacts", "companies", &primary).await.unwrap();
    assert!(removed[0].is_success(), "{removed:?}");
    assert_eq!(linked(&hubspot, &contact).await, vec![(company, "279".to_string())]);
}

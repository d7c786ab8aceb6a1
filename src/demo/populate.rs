//! Writes a [`SeedPlan`] into the two simulators as imports would, with associations
//! (contact→company, deal→company, note→contact; `AccountId` and `WhoId` on Salesforce),
//! and returns the ids each side gave its records.

use serde_json::{Value, json};

use super::DemoError;
use super::seed::{Company, Contact, Deal, INDUSTRY, LIFECYCLE, Note, STAGES, SeedPlan};
use super::seed::{Place, to_salesforce};
use super::sims::{LIFECYCLE_FIELD, Sims};

/// The ids of a plan's records on each side, by plan index (`None`: not on that side).
#[derive(Debug, Default)]
pub struct Seeded {
    pub hubspot_owners: Vec<String>,
    pub salesforce_users: Vec<String>,
    pub hubspot_companies: Vec<Option<u64>>,
    pub salesforce_accounts: Vec<Option<String>>,
    pub hubspot_contacts: Vec<Option<u64>>,
    pub salesforce_contacts: Vec<Option<String>>,
    pub hubspot_deals: Vec<Option<u64>>,
    pub salesforce_opportunities: Vec<Option<String>>,
}

impl Seeded {
    /// Contacts present on both sides: (HubSpot id, Salesforce id).
    pub fn shared_contacts(&self) -> Vec<(u64, String)> {
        self.hubspot_contacts
            .iter()
            .zip(&self.salesforce_contacts)
            .filter_map(|(hs, sf)| Some(((*hs)?, sf.clone()?)))
            .collect()
    }
}

fn hubspot_error(err: impl std::fmt::Display) -> DemoError {
    DemoError::Seed(format!("HubSpot simulator refused a seeded record: {err}"))
}

fn salesforce_error(err: impl std::fmt::Display) -> DemoError {
    DemoError::Seed(format!("Salesforce simulator refused a seeded record: {err}"))
}

/// Creates every planned record on its side(s).
pub fn apply(plan: &SeedPlan, sims: &Sims) -> Result<Seeded, DemoError> {
    let mut seeded = Seeded::default();
    owners(plan, sims, &mut seeded)?;
    for company in &plan.companies {
        let hs = on(company.place.on_hubspot(), || hubspot_company(company, sims, &seeded))?;
        let sf = on(company.place.on_salesforce(), || salesforce_account(company, sims, &seeded))?;
        seeded.hubspot_companies.push(hs);
        seeded.salesforce_accounts.push(sf);
    }
    for contact in &plan.contacts {
        let hs = on(contact.place.on_hubspot(), || hubspot_contact(contact, sims, &seeded))?;
        let sf = on(contact.place.on_salesforce(), || salesforce_contact(contact, sims, &seeded))?;
        seeded.hubspot_contacts.push(hs);
        seeded.salesforce_contacts.push(sf);
    }
    for deal in &plan.deals {
        let hs = on(deal.place.on_hubspot(), || hubspot_deal(deal, sims, &seeded))?;
        let sf = on(deal.place.on_salesforce(), || salesforce_opportunity(deal, sims, &seeded))?;
        seeded.hubspot_deals.push(hs);
        seeded.salesforce_opportunities.push(sf);
    }
    for note in &plan.notes {
        engagement(note, plan, sims, &seeded)?;
    }
    Ok(seeded)
}

fn on<T>(
    present: bool,
    create: impl FnOnce() -> Result<T, DemoError>,
) -> Result<Option<T>, DemoError> {
    if present { create().map(Some) } else { Ok(None) }
}

/// The same people own records on both sides: HubSpot owners and Salesforce users with
/// matching emails, so the owner mapping pairs them.
fn owners(plan: &SeedPlan, sims: &Sims, seeded: &mut Seeded) -> Result<(), DemoError> {
    for owner in &plan.owners {
        let hs = json!({"email": owner.email, "firstName": owner.first, "lastName": owner.last});
        seeded.hubspot_owners.push(sims.hubspot.add_owner(hs));
        let user = json!({
            "Username": owner.email, "Email": owner.email,
            "FirstName": owner.first, "LastName": owner.last, "IsActive": true,
        });
        seeded.salesforce_users.push(sims.salesforce.seed("User", user).map_err(salesforce_error)?);
    }
    Ok(())
}

fn hubspot_company(company: &Company, sims: &Sims, seeded: &Seeded) -> Result<u64, DemoError> {
    let properties = json!({
        "name": company.name, "domain": company.domain, "industry": company.industry,
        "numberofemployees": company.employees.to_string(),
        "hubspot_owner_id": seeded.hubspot_owners[company.owner],
    });
    sims.hubspot.seed("companies", properties).map_err(hubspot_error)
}

fn salesforce_account(
    company: &Company,
    sims: &Sims,
    seeded: &Seeded,
) -> Result<String, DemoError> {
    let fields = json!({
        "Name": company.name, "Website": company.domain,
        "Industry": to_salesforce(INDUSTRY, company.industry),
        "NumberOfEmployees": company.salesforce_employees.unwrap_or(company.employees),
        "OwnerId": seeded.salesforce_users[company.owner],
    });
    sims.salesforce.seed("Account", fields).map_err(salesforce_error)
}

fn hubspot_contact(contact: &Contact, sims: &Sims, seeded: &Seeded) -> Result<u64, DemoError> {
    let properties = json!({
        "email": contact.email, "firstname": contact.first, "lastname": contact.last,
        "phone": contact.phone, "jobtitle": contact.title, "lifecyclestage": contact.lifecycle,
        "hubspot_owner_id": seeded.hubspot_owners[contact.owner],
    });
    let id = sims.hubspot.seed("contacts", properties).map_err(hubspot_error)?;
    if let Some(company) = contact.company.and_then(|c| seeded.hubspot_companies[c]) {
        sims.hubspot
            .associate(("contacts", id), ("companies", company), None)
            .map_err(hubspot_error)?;
    }
    Ok(id)
}

fn salesforce_contact(
    contact: &Contact,
    sims: &Sims,
    seeded: &Seeded,
) -> Result<String, DemoError> {
    let mut fields = json!({
        "FirstName": contact.first, "LastName": contact.last, "Email": contact.email,
        "Phone": contact.salesforce_phone.as_ref().unwrap_or(&contact.phone),
        "Title": contact.salesforce_title.as_ref().unwrap_or(&contact.title),
        LIFECYCLE_FIELD: to_salesforce(LIFECYCLE, contact.lifecycle),
        "OwnerId": seeded.salesforce_users[contact.owner],
    });
    let account = contact.company.and_then(|c| seeded.salesforce_accounts[c].clone());
    set_reference(&mut fields, "AccountId", account);
    sims.salesforce.seed("Contact", fields).map_err(salesforce_error)
}

fn hubspot_deal(deal: &Deal, sims: &Sims, seeded: &Seeded) -> Result<u64, DemoError> {
    let properties = json!({
        "dealname": deal.name, "amount": deal.amount.to_string(), "dealstage": deal.stage,
        "closedate": format!("{}T00:00:00.000Z", deal.close_date.format("%Y-%m-%d")),
        "pipeline": "default", "hubspot_owner_id": seeded.hubspot_owners[deal.owner],
    });
    let id = sims.hubspot.seed("deals", properties).map_err(hubspot_error)?;
    if let Some(company) = deal.company.and_then(|c| seeded.hubspot_companies[c]) {
        sims.hubspot
            .associate(("deals", id), ("companies", company), None)
            .map_err(hubspot_error)?;
    }
    Ok(id)
}

fn salesforce_opportunity(deal: &Deal, sims: &Sims, seeded: &Seeded) -> Result<String, DemoError> {
    let mut fields = json!({
        "Name": deal.name, "Amount": deal.amount, "StageName": to_salesforce(STAGES, deal.stage),
        "CloseDate": deal.close_date.format("%Y-%m-%d").to_string(),
        "OwnerId": seeded.salesforce_users[deal.owner],
    });
    let account = deal.company.and_then(|c| seeded.salesforce_accounts[c].clone());
    set_reference(&mut fields, "AccountId", account);
    sims.salesforce.seed("Opportunity", fields).map_err(salesforce_error)
}

/// A HubSpot note on a HubSpot contact, or a Salesforce Task on a Salesforce contact.
fn engagement(note: &Note, plan: &SeedPlan, sims: &Sims, seeded: &Seeded) -> Result<(), DemoError> {
    let owner = plan.contacts[note.contact].owner;
    if note.place == Place::Hubspot {
        let Some(contact) = seeded.hubspot_contacts[note.contact] else { return Ok(()) };
        let properties = json!({
            "hs_note_body": note.body, "hs_timestamp": "2026-11-01T09:00:00.000Z",
            "hubspot_owner_id": seeded.hubspot_owners[owner],
        });
        let id = sims.hubspot.seed("notes", properties).map_err(hubspot_error)?;
        sims.hubspot
            .associate(("notes", id), ("contacts", contact), None)
            .map_err(hubspot_error)?;
        return Ok(());
    }
    let Some(contact) = seeded.salesforce_contacts[note.contact].clone() else { return Ok(()) };
    let fields = json!({
        "Subject": "Call", "Description": note.body, "WhoId": contact, "Status": "Completed",
        "ActivityDate": "2026-11-01",
        "OwnerId": seeded.salesforce_users[owner],
    });
    sims.salesforce.seed("Task", fields).map_err(salesforce_error)?;
    Ok(())
}

fn set_reference(fields: &mut Value, name: &str, id: Option<String>) {
    if let (Some(id), Some(map)) = (id, fields.as_object_mut()) {
        map.insert(name.into(), Value::String(id));
    }
}

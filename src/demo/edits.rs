//! Live edits while the demo runs, as users of each CRM would make them: field edits,
//! creates, now and then an archive, and now and then the same field edited on both sides.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::populate::Seeded;
use super::seed::{FIRST, LAST, LIFECYCLE, TITLES, other_title};
use super::sims::{LIFECYCLE_FIELD, Sims};

/// The HubSpot user the demo's UI edits are attributed to.
const HUBSPOT_USER: u64 = 7;
/// At most this many archives per run: enough to show the delete policy.
const MAX_ARCHIVES: usize = 3;

/// Edits made so far, per side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditTally {
    pub hubspot: usize,
    pub salesforce: usize,
    /// Same field edited on both sides of a shared record.
    pub both: usize,
    /// Edits a simulator refused (e.g. the record was archived meanwhile).
    pub refused: usize,
}

/// Makes one edit per [`Editor::step`], chosen at random from the seed.
pub struct Editor {
    rng: StdRng,
    run: u64,
    hubspot_contacts: Vec<u64>,
    salesforce_contacts: Vec<String>,
    hubspot_deals: Vec<u64>,
    salesforce_opportunities: Vec<String>,
    shared: Vec<(u64, String)>,
    hubspot_owners: Vec<String>,
    salesforce_users: Vec<String>,
    created: usize,
    archived: usize,
    pub tally: EditTally,
}

impl Editor {
    pub fn new(seed: u64, seeded: &Seeded) -> Editor {
        let flat_hs = |ids: &[Option<u64>]| ids.iter().flatten().copied().collect::<Vec<_>>();
        let flat_sf = |ids: &[Option<String>]| ids.iter().flatten().cloned().collect::<Vec<_>>();
        Editor {
            rng: StdRng::seed_from_u64(seed ^ 0xed17),
            run: seed,
            hubspot_contacts: flat_hs(&seeded.hubspot_contacts),
            salesforce_contacts: flat_sf(&seeded.salesforce_contacts),
            hubspot_deals: flat_hs(&seeded.hubspot_deals),
            salesforce_opportunities: flat_sf(&seeded.salesforce_opportunities),
            shared: seeded.shared_contacts(),
            hubspot_owners: seeded.hubspot_owners.clone(),
            salesforce_users: seeded.salesforce_users.clone(),
            created: 0,
            archived: 0,
            tally: EditTally::default(),
        }
    }

    /// Makes one edit; returns a line worth printing for the notable ones (archives and
    /// same-field edits on both sides).
    pub fn step(&mut self, sims: &Sims) -> Option<String> {
        let roll = self.rng.random_range(0..100);
        let outcome = match roll {
            0..30 => self.edit_hubspot_contact(sims).map(|_| None),
            30..60 => self.edit_salesforce_contact(sims).map(|_| None),
            60..68 => self.create_hubspot_contact(sims).map(|_| None),
            68..76 => self.create_salesforce_contact(sims).map(|_| None),
            76..84 => self.edit_hubspot_deal(sims).map(|_| None),
            84..92 => self.edit_salesforce_opportunity(sims).map(|_| None),
            92..98 => self.edit_both_sides(sims).map(Some),
            _ => self.archive_hubspot_contact(sims),
        };
        outcome.unwrap_or_else(|()| {
            self.tally.refused += 1;
            None
        })
    }

    fn title(&mut self) -> &'static str {
        TITLES[self.rng.random_range(0..TITLES.len())]
    }

    fn phone(&mut self) -> String {
        format!(
            "+1 555 02{:02} {:04}",
            self.rng.random_range(0..100),
            self.rng.random_range(0..10_000)
        )
    }

    fn any<T: Clone>(rng: &mut StdRng, items: &[T]) -> Result<T, ()> {
        if items.is_empty() {
            return Err(());
        }
        Ok(items[rng.random_range(0..items.len())].clone())
    }

    fn edit_hubspot_contact(&mut self, sims: &Sims) -> Result<(), ()> {
        let id = Self::any(&mut self.rng, &self.hubspot_contacts)?;
        let change = match self.rng.random_range(0..3) {
            0 => json!({"jobtitle": self.title()}),
            1 => json!({"phone": self.phone()}),
            _ => json!({"firstname": FIRST[self.rng.random_range(0..FIRST.len())]}),
        };
        sims.hubspot.edit_as_user("contacts", id, change, HUBSPOT_USER).map_err(drop)?;
        self.tally.hubspot += 1;
        Ok(())
    }

    fn edit_salesforce_contact(&mut self, sims: &Sims) -> Result<(), ()> {
        let id = Self::any(&mut self.rng, &self.salesforce_contacts)?;
        let change = match self.rng.random_range(0..3) {
            0 => json!({"Title": self.title()}),
            1 => json!({"Phone": self.phone()}),
            _ => json!({"LastName": LAST[self.rng.random_range(0..LAST.len())]}),
        };
        sims.salesforce.edit_as_user(&id, change).map_err(drop)?;
        self.tally.salesforce += 1;
        Ok(())
    }

    fn new_person(&mut self) -> (&'static str, &'static str, String, usize) {
        self.created += 1;
        let first = FIRST[self.rng.random_range(0..FIRST.len())];
        let last = LAST[self.rng.random_range(0..LAST.len())];
        let email =
            format!("{first}.{last}.live{}.{}@customer.example.com", self.created, self.run);
        (first, last, email.to_lowercase(), self.rng.random_range(0..self.hubspot_owners.len()))
    }

    fn create_hubspot_contact(&mut self, sims: &Sims) -> Result<(), ()> {
        let (first, last, email, owner) = self.new_person();
        let properties = json!({
            "email": email, "firstname": first, "lastname": last, "jobtitle": self.title(),
            "lifecyclestage": "lead", "hubspot_owner_id": self.hubspot_owners[owner],
        });
        let id = sims.hubspot.create_as_user("contacts", properties, HUBSPOT_USER).map_err(drop)?;
        self.hubspot_contacts.push(id);
        self.tally.hubspot += 1;
        Ok(())
    }

    fn create_salesforce_contact(&mut self, sims: &Sims) -> Result<(), ()> {
        let (first, last, email, owner) = self.new_person();
        let fields = json!({
            "Email": email, "FirstName": first, "LastName": last, "Title": self.title(),
            LIFECYCLE_FIELD: LIFECYCLE[1].1, "OwnerId": self.salesforce_users[owner],
        });
        let id = sims.salesforce.create_as_user("Contact", fields).map_err(drop)?;
        self.salesforce_contacts.push(id);
        self.tally.salesforce += 1;
        Ok(())
    }

    fn edit_hubspot_deal(&mut self, sims: &Sims) -> Result<(), ()> {
        let id = Self::any(&mut self.rng, &self.hubspot_deals)?;
        let amount = (self.rng.random_range(2..400) * 500).to_string();
        sims.hubspot
            .edit_as_user("deals", id, json!({"amount": amount}), HUBSPOT_USER)
            .map_err(drop)?;
        self.tally.hubspot += 1;
        Ok(())
    }

    fn edit_salesforce_opportunity(&mut self, sims: &Sims) -> Result<(), ()> {
        let id = Self::any(&mut self.rng, &self.salesforce_opportunities)?;
        let amount = self.rng.random_range(2..400) * 500;
        sims.salesforce.edit_as_user(&id, json!({"Amount": amount})).map_err(drop)?;
        self.tally.salesforce += 1;
        Ok(())
    }

    /// Two users change the same contact's job title at nearly the same time.
    fn edit_both_sides(&mut self, sims: &Sims) -> Result<String, ()> {
        let (hs, sf) = Self::any(&mut self.rng, &self.shared)?;
        let on_hubspot = self.title();
        let on_salesforce = other_title(on_hubspot);
        sims.hubspot
            .edit_as_user("contacts", hs, json!({"jobtitle": on_hubspot}), HUBSPOT_USER)
            .map_err(drop)?;
        sims.salesforce.edit_as_user(&sf, json!({"Title": &on_salesforce})).map_err(drop)?;
        self.tally.both += 1;
        Ok(format!(
            "edit: contact {hs} / {sf}: job title set to {on_hubspot:?} on HubSpot and \
             {on_salesforce:?} on Salesforce"
        ))
    }

    fn archive_hubspot_contact(&mut self, sims: &Sims) -> Result<Option<String>, ()> {
        if self.archived >= MAX_ARCHIVES {
            return self.edit_hubspot_contact(sims).map(|_| None);
        }
        let at = self.rng.random_range(0..self.hubspot_contacts.len().max(1));
        let id = *self.hubspot_contacts.get(at).ok_or(())?;
        sims.hubspot.archive_as_user("contacts", id, HUBSPOT_USER).map_err(drop)?;
        self.hubspot_contacts.swap_remove(at);
        self.shared.retain(|(hs, _)| *hs != id);
        self.archived += 1;
        self.tally.hubspot += 1;
        Ok(Some(format!("edit: HubSpot contact {id} archived by a user")))
    }
}

//! The demo's data: a plan of owners, companies, contacts, deals and notes drawn
//! deterministically from `--seed`, in HubSpot's vocabulary, with the side each record lives on.

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Records created on the two simulators together, per object.
pub const CONTACTS: usize = 2_000;
pub const COMPANIES: usize = 300;
pub const DEALS: usize = 500;

/// Logical records present on both sides (same email / same domain, not yet linked).
pub const SHARED_CONTACTS: usize = 100;
pub const SHARED_COMPANIES: usize = 15;
/// Shared contacts whose job title differs (settled by the policy), and whose phone differs
/// (held for an operator by the field's `hold` policy).
pub const TITLE_CONFLICTS: usize = 12;
pub const PHONE_CONFLICTS: usize = 4;
/// Shared companies whose employee count differs.
pub const EMPLOYEE_CONFLICTS: usize = 5;

const HUBSPOT_ONLY_CONTACTS: usize = 1_000;
const HUBSPOT_ONLY_COMPANIES: usize = 140;
const HUBSPOT_DEALS: usize = 260;
const HUBSPOT_NOTES: usize = 150;
const SALESFORCE_TASKS: usize = 120;

/// The title a Salesforce validation rule refuses (set up by the demo), so those writes fail.
pub const BLOCKED_TITLE: &str = "Do Not Sync";
/// Values the demo's value maps have no entry for, under `unmapped = "fail"`.
pub const UNMAPPED_LIFECYCLE: &str = "evangelist";
pub const UNMAPPED_STAGE: &str = "decisionmakerboughtin";

/// HubSpot ↔ Salesforce values, as `config/demo.toml` maps them.
pub const LIFECYCLE: &[(&str, &str)] = &[
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "MQL"),
    ("salesqualifiedlead", "SQL"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
];
pub const INDUSTRY: &[(&str, &str)] = &[
    ("COMPUTER_SOFTWARE", "Technology"),
    ("FINANCIAL_SERVICES", "Finance"),
    ("RETAIL", "Retail"),
    ("OTHER", "Other"),
];
pub const STAGES: &[(&str, &str)] = &[
    ("appointmentscheduled", "Prospecting"),
    ("qualifiedtobuy", "Qualification"),
    ("contractsent", "Negotiation"),
    ("closedwon", "Closed Won"),
    ("closedlost", "Closed Lost"),
];

pub const FIRST: &[&str] = &[
    "Ann", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
];
pub const LAST: &[&str] = &[
    "Ng", "Silva", "Okafor", "Muller", "Rossi", "Kowalski", "Tanaka", "Haddad", "Larsen", "Dubois",
    "Novak", "Kim", "Garcia", "Ivanova", "Brown", "Chen", "Patel", "Moreau",
];
const BRAND: &[&str] = &[
    "Acme", "Bluebird", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
    "Kestrel", "Lumen", "Maple", "Nimbus", "Orbit", "Pioneer", "Quartz", "Redwood",
];
const TRADE: &[&str] = &[
    "Analytics",
    "Logistics",
    "Health",
    "Foods",
    "Robotics",
    "Capital",
    "Energy",
    "Labs",
    "Outfitters",
    "Systems",
    "Media",
    "Works",
];
pub const TITLES: &[&str] = &[
    "CEO",
    "CTO",
    "Head of Sales",
    "Account Executive",
    "Marketing Manager",
    "Engineer",
    "Operations Lead",
    "Buyer",
    "Analyst",
    "Office Manager",
];
const PRODUCTS: &[&str] =
    &["Platform licence", "Support renewal", "Onboarding", "Expansion", "Pilot", "Upgrade"];
const TOPICS: &[&str] =
    &["pricing", "the renewal date", "a product demo", "onboarding", "the contract", "a referral"];

/// Where a record starts out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Hubspot,
    Salesforce,
    /// One record on each side with the same natural key.
    Both,
}

impl Place {
    pub fn on_hubspot(self) -> bool {
        self != Place::Salesforce
    }

    pub fn on_salesforce(self) -> bool {
        self != Place::Hubspot
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub first: String,
    pub last: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub place: Place,
    pub name: String,
    pub domain: String,
    /// HubSpot's value; Salesforce's through [`INDUSTRY`].
    pub industry: &'static str,
    pub employees: u32,
    pub owner: usize,
    /// Salesforce's count when it disagrees with HubSpot's.
    pub salesforce_employees: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub place: Place,
    pub first: String,
    pub last: String,
    pub email: String,
    pub phone: String,
    pub title: String,
    /// HubSpot's value; Salesforce's through [`LIFECYCLE`].
    pub lifecycle: &'static str,
    pub owner: usize,
    pub company: Option<usize>,
    pub salesforce_title: Option<String>,
    pub salesforce_phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deal {
    pub place: Place,
    pub name: String,
    pub amount: u32,
    /// HubSpot's value; Salesforce's through [`STAGES`].
    pub stage: &'static str,
    pub close_date: NaiveDate,
    pub company: Option<usize>,
    pub owner: usize,
}

/// A HubSpot note or a Salesforce Task on a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub place: Place,
    pub body: String,
    pub contact: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPlan {
    pub seed: u64,
    pub owners: Vec<Owner>,
    pub companies: Vec<Company>,
    pub contacts: Vec<Contact>,
    pub deals: Vec<Deal>,
    pub notes: Vec<Note>,
}

/// Records per side and in total, for the start-up summary and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub hubspot: usize,
    pub salesforce: usize,
    pub shared: usize,
}

impl Tally {
    pub fn total(&self) -> usize {
        self.hubspot + self.salesforce
    }

    fn of(places: impl Iterator<Item = Place>) -> Tally {
        places.fold(Tally::default(), |mut tally, place| {
            tally.hubspot += usize::from(place.on_hubspot());
            tally.salesforce += usize::from(place.on_salesforce());
            tally.shared += usize::from(place == Place::Both);
            tally
        })
    }
}

impl SeedPlan {
    pub fn contacts_tally(&self) -> Tally {
        Tally::of(self.contacts.iter().map(|c| c.place))
    }

    pub fn companies_tally(&self) -> Tally {
        Tally::of(self.companies.iter().map(|c| c.place))
    }

    pub fn deals_tally(&self) -> Tally {
        Tally::of(self.deals.iter().map(|d| d.place))
    }

    pub fn notes_tally(&self) -> Tally {
        Tally::of(self.notes.iter().map(|n| n.place))
    }

    /// Records the other side is expected to refuse: unmapped picklist values and the
    /// title Salesforce's validation rule blocks.
    pub fn expected_rejections(&self) -> usize {
        let contacts = self
            .contacts
            .iter()
            .filter(|c| c.lifecycle == UNMAPPED_LIFECYCLE || c.title == BLOCKED_TITLE)
            .count();
        contacts + self.deals.iter().filter(|d| d.stage == UNMAPPED_STAGE).count()
    }
}

/// The plan for `seed`: the same seed always gives the same plan.
pub fn plan(seed: u64) -> SeedPlan {
    let mut rng = StdRng::seed_from_u64(seed);
    let owners = owners();
    let companies = companies(&mut rng, owners.len());
    let contacts = contacts(&mut rng, &companies, owners.len());
    let deals = deals(&mut rng, &companies, owners.len());
    let notes = notes(&mut rng, &contacts);
    SeedPlan { seed, owners, companies, contacts, deals, notes }
}

fn owners() -> Vec<Owner> {
    let names =
        [("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"), ("Edsger", "Dijkstra")];
    let more = [("Barbara", "Liskov"), ("Donald", "Knuth")];
    names
        .iter()
        .chain(more.iter())
        .map(|(first, last)| Owner {
            first: first.to_string(),
            last: last.to_string(),
            email: format!("{}.{}@sales.hubsync.example", first, last).to_lowercase(),
        })
        .collect()
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// Places for `shared` logical records on both sides, then `hubspot` on HubSpot only, and
/// the rest of `records` on Salesforce only.
fn places(records: usize, shared: usize, hubspot: usize) -> Vec<Place> {
    let salesforce = records - 2 * shared - hubspot;
    let mut places = vec![Place::Both; shared];
    places.extend(std::iter::repeat_n(Place::Hubspot, hubspot));
    places.extend(std::iter::repeat_n(Place::Salesforce, salesforce));
    places
}

fn companies(rng: &mut StdRng, owners: usize) -> Vec<Company> {
    let places = places(COMPANIES, SHARED_COMPANIES, HUBSPOT_ONLY_COMPANIES);
    let mut companies = Vec::with_capacity(places.len());
    for (i, place) in places.into_iter().enumerate() {
        let (brand, trade) = (pick(rng, BRAND), pick(rng, TRADE));
        let employees = rng.random_range(5..5_000);
        let differs = place == Place::Both && i < EMPLOYEE_CONFLICTS;
        companies.push(Company {
            place,
            name: format!("{brand} {trade}"),
            domain: format!("{}-{}-{i}.example.com", brand, trade).to_lowercase(),
            industry: INDUSTRY[rng.random_range(0..INDUSTRY.len())].0,
            employees,
            owner: rng.random_range(0..owners),
            salesforce_employees: differs.then_some(employees + 10),
        });
    }
    companies
}

/// A company on the same side as `place` (for a shared record: a shared company), or none.
fn company_for(rng: &mut StdRng, companies: &[Company], place: Place) -> Option<usize> {
    if rng.random_range(0..10) < 2 {
        return None;
    }
    let fits: Vec<usize> = (0..companies.len())
        .filter(|&i| match place {
            Place::Both => companies[i].place == Place::Both,
            Place::Hubspot => companies[i].place.on_hubspot(),
            Place::Salesforce => companies[i].place.on_salesforce(),
        })
        .collect();
    Some(fits[rng.random_range(0..fits.len())])
}

fn contacts(rng: &mut StdRng, companies: &[Company], owners: usize) -> Vec<Contact> {
    let places = places(CONTACTS, SHARED_CONTACTS, HUBSPOT_ONLY_CONTACTS);
    let mut contacts = Vec::with_capacity(places.len());
    for (i, place) in places.into_iter().enumerate() {
        let (first, last) = (pick(rng, FIRST), pick(rng, LAST));
        let title = pick(rng, TITLES).to_string();
        let phone = format!("+1 555 01{:02} {:04}", i % 100, rng.random_range(0..10_000));
        let shared = place == Place::Both;
        let phone_conflicts = TITLE_CONFLICTS..TITLE_CONFLICTS + PHONE_CONFLICTS;
        let mut contact = Contact {
            place,
            first: first.into(),
            last: last.into(),
            email: format!("{first}.{last}.{i}@customer.example.com").to_lowercase(),
            salesforce_title: (shared && i < TITLE_CONFLICTS).then(|| other_title(&title)),
            salesforce_phone: (shared && phone_conflicts.contains(&i))
                .then(|| format!("+44 20 7946 {i:04}")),
            phone,
            title,
            lifecycle: LIFECYCLE[rng.random_range(0..LIFECYCLE.len())].0,
            owner: rng.random_range(0..owners),
            company: company_for(rng, companies, place),
        };
        rejected_contact(&mut contact, i);
        contacts.push(contact);
    }
    contacts
}

/// The first HubSpot-only contacts (right after the shared ones) carry what the sync must
/// refuse.
fn rejected_contact(contact: &mut Contact, i: usize) {
    match i.checked_sub(SHARED_CONTACTS) {
        Some(0..=2) => contact.lifecycle = UNMAPPED_LIFECYCLE,
        Some(3..=4) => contact.title = BLOCKED_TITLE.into(),
        _ => {}
    }
}

/// A job title other than `title`.
pub fn other_title(title: &str) -> String {
    let at = TITLES.iter().position(|t| *t == title).unwrap_or(0);
    TITLES[(at + 1) % TITLES.len()].to_string()
}

fn deals(rng: &mut StdRng, companies: &[Company], owners: usize) -> Vec<Deal> {
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a valid date");
    (0..DEALS)
        .map(|i| {
            let place = if i < HUBSPOT_DEALS { Place::Hubspot } else { Place::Salesforce };
            let company = company_for(rng, companies, place);
            let buyer = company.map_or("New prospect", |c| companies[c].name.as_str());
            let stage = if i < 2 { UNMAPPED_STAGE } else { STAGES[rng.random_range(0..5)].0 };
            Deal {
                place,
                name: format!("{buyer} – {}", pick(rng, PRODUCTS)),
                amount: rng.random_range(2..400) * 500,
                stage,
                close_date: start + chrono::Duration::days(rng.random_range(0..365)),
                company,
                owner: rng.random_range(0..owners),
            }
        })
        .collect()
}

fn notes(rng: &mut StdRng, contacts: &[Contact]) -> Vec<Note> {
    let on = |place: Place| -> Vec<usize> {
        (0..contacts.len()).filter(|&i| contacts[i].place == place).collect()
    };
    let (hubspot, salesforce) = (on(Place::Hubspot), on(Place::Salesforce));
    let mut notes = Vec::with_capacity(HUBSPOT_NOTES + SALESFORCE_TASKS);
    for (place, pool, count) in [
        (Place::Hubspot, &hubspot, HUBSPOT_NOTES),
        (Place::Salesforce, &salesforce, SALESFORCE_TASKS),
    ] {
        for _ in 0..count {
            let contact = pool[rng.random_range(0..pool.len())];
            let body =
                format!("Call with {}: discussed {}.", contacts[contact].first, pick(rng, TOPICS));
            notes.push(Note { place, body, contact });
        }
    }
    notes
}

/// Salesforce's value for a HubSpot value through a value-map table, or the value itself
/// when the table has no entry (those are the records the sync is expected to refuse).
pub fn to_salesforce(table: &[(&str, &'static str)], hubspot: &'static str) -> &'static str {
    table.iter().find(|(h, _)| *h == hubspot).map_or(hubspot, |(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data_and_another_seed_different_data() {
        assert_eq!(plan(7), plan(7));
        assert_ne!(plan(7), plan(8));
    }

    #[test]
    fn the_plan_has_the_promised_totals_across_both_sides() {
        let plan = plan(1);
        assert_eq!(plan.contacts_tally().total(), CONTACTS);
        assert_eq!(plan.companies_tally().total(), COMPANIES);
        assert_eq!(plan.deals_tally().total(), DEALS);
        assert_eq!(plan.contacts_tally().shared, SHARED_CONTACTS);
        assert_eq!(plan.companies_tally().shared, SHARED_COMPANIES);
    }

    #[test]
    fn natural_keys_are_unique_so_only_the_intended_records_overlap() {
        let plan = plan(3);
        let emails: std::collections::HashSet<&str> =
            plan.contacts.iter().map(|c| c.email.as_str()).collect();
        assert_eq!(emails.len(), plan.contacts.len());
        let domains: std::collections::HashSet<&str> =
            plan.companies.iter().map(|c| c.domain.as_str()).collect();
        assert_eq!(domains.len(), plan.companies.len());
    }

    #[test]
    fn a_few_shared_records_disagree_and_a_few_records_will_be_refused() {
        let plan = plan(5);
        let titles = plan.contacts.iter().filter(|c| c.salesforce_title.is_some()).count();
        let phones = plan.contacts.iter().filter(|c| c.salesforce_phone.is_some()).count();
        let employees = plan.companies.iter().filter(|c| c.salesforce_employees.is_some()).count();
        assert_eq!(
            (titles, phones, employees),
            (TITLE_CONFLICTS, PHONE_CONFLICTS, EMPLOYEE_CONFLICTS)
        );
        assert!(
            plan.contacts.iter().all(|c| c.salesforce_title.is_none() || c.place == Place::Both)
        );
        assert_eq!(plan.expected_rejections(), 7);
    }

    #[test]
    fn shared_contacts_belong_to_shared_companies_and_others_to_their_own_side() {
        let plan = plan(9);
        for contact in &plan.contacts {
            let Some(company) = contact.company else { continue };
            let place = plan.companies[company].place;
            match contact.place {
                Place::Both => assert_eq!(place, Place::Both),
                Place::Hubspot => assert!(place.on_hubspot()),
                Place::Salesforce => assert!(place.on_salesforce()),
            }
        }
    }
}

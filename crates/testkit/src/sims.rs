//! The HubSpot and Salesforce simulators as a sync runs between them, the connectors
//! config that points hubsync at them, and HubSpot's webhooks aimed at the daemon.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hubspot_sim::{HubspotSim, RateProfile, Subscription, WebhookSettings};
use salesforce_sim::{SalesforceSim, Seed};
use serde_json::json;

/// Both simulators for the sync tests: every object the sync blocks use carries its key.
pub async fn simulators(rate: RateProfile) -> (HubspotSim, SalesforceSim) {
    let hubspot = hubspot(rate, &["contacts", "companies", "deals", "notes"]).await;
    let objects = ["Contact", "Account", "Opportunity", "Task"];
    (hubspot, salesforce(&objects, 10_000_000).await)
}

/// A HubSpot simulator whose `objects` have the unique property `salesforce_id`.
pub async fn hubspot(rate: RateProfile, objects: &[&str]) -> HubspotSim {
    let config = hubspot_sim::SimConfig { rate, ..Default::default() };
    let sim = HubspotSim::start(config).await.expect("hubspot simulator starts");
    for object in objects {
        sim.create_property(
            object,
            json!({"name": "salesforce_id", "label": "Salesforce id", "type": "string",
                   "fieldType": "text", "groupName": "sync", "hasUniqueValue": true}),
        )
        .expect("unique property created");
    }
    sim
}

/// A Salesforce simulator whose `objects` have the unique External ID `HubSpot_Id__c`.
pub async fn salesforce(objects: &[&str], daily_api_limit: u64) -> SalesforceSim {
    let mut seed = Seed::default();
    for object in objects {
        seed = seed.with_external_id(object, "HubSpot_Id__c", true);
    }
    let config = salesforce_sim::SimConfig { seed, daily_api_limit, ..Default::default() };
    SalesforceSim::start(config).await.expect("salesforce simulator starts")
}

/// Points the simulator's webhooks at the daemon's receiver on `admin`, signed with
/// `secret`, one subscription per event (ids from 1); returns the receiver's URL.
pub fn subscribe(hubspot: &HubspotSim, admin: SocketAddr, secret: &str, events: &[&str]) -> String {
    let target = format!("http://{admin}/webhooks/hubspot");
    let subscriptions =
        events.iter().zip(1..).map(|(event, id)| Subscription::new(id, event)).collect();
    hubspot.set_webhooks(Some(WebhookSettings::new(&target, secret, subscriptions)));
    target
}

/// The daemon's `[webhooks.hubspot]` section for a receiver at `public_url`.
pub fn webhooks_toml(public_url: &str, client_secret: &SecretSource) -> String {
    format!(
        "\n[webhooks.hubspot]\npublic_url = \"{public_url}\"\nclient_secret = {}\n",
        client_secret.toml()
    )
}

/// Where the daemon reads a secret from.
#[derive(Clone, Debug)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

impl SecretSource {
    /// Writes `value` to `dir/name` and reads it from there.
    pub fn written(dir: &Path, name: &str, value: &str) -> SecretSource {
        let path = dir.join(name);
        std::fs::write(&path, value).expect("the secret is written");
        SecretSource::File(path)
    }

    fn toml(&self) -> String {
        match self {
            SecretSource::File(path) => format!("{{ file = \"{}\" }}", path.display()),
            SecretSource::Env(var) => format!("{{ env = \"{var}\" }}"),
        }
    }
}

/// A HubSpot connector's known quotas: `[connectors.<name>.rate_limit]`.
#[derive(Clone, Debug)]
pub struct RateLimit {
    pub tier: &'static str,
    pub burst_per_10s: Option<u32>,
    pub daily: Option<u64>,
    pub search_per_second: Option<u32>,
}

impl RateLimit {
    /// The tier alone; its limits are the tier's own.
    pub fn tier(tier: &'static str) -> RateLimit {
        RateLimit { tier, burst_per_10s: None, daily: None, search_per_second: None }
    }

    /// Enterprise at HubSpot's highest quotas, so the connector never waits on itself.
    pub fn generous() -> RateLimit {
        RateLimit {
            burst_per_10s: Some(250),
            daily: Some(5_000_000),
            search_per_second: Some(50),
            ..RateLimit::tier("enterprise")
        }
    }

    fn toml(&self, connector: &str) -> String {
        let mut out = format!("[connectors.{connector}.rate_limit]\ntier = \"{}\"\n", self.tier);
        let limits = [
            ("burst_per_10s", self.burst_per_10s.map(u64::from)),
            ("daily", self.daily),
            ("search_per_second", self.search_per_second.map(u64::from)),
        ];
        for (key, value) in limits {
            if let Some(value) = value {
                let _ = writeln!(out, "{key} = {value}");
            }
        }
        out
    }
}

/// One `kind = "hubspot"` connector pointing at a simulator.
#[derive(Clone, Debug)]
pub struct HubspotToml {
    name: String,
    base_url: String,
    token: String,
    token_source: Option<SecretSource>,
    app_id: Option<u64>,
    search_safety_lag: Option<String>,
    rate_limit: Option<RateLimit>,
}

impl HubspotToml {
    /// Connector `hubspot` at `sim` with its private-app token; the token's source must
    /// still be chosen ([`HubspotToml::token_in`] or [`HubspotToml::token_from_env`]).
    pub fn new(sim: &HubspotSim) -> HubspotToml {
        HubspotToml {
            name: "hubspot".into(),
            base_url: sim.base_url().to_string(),
            token: sim.token().to_string(),
            token_source: None,
            app_id: None,
            search_safety_lag: None,
            rate_limit: None,
        }
    }

    /// The connector's name in `[connectors.<name>]` (default `hubspot`).
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    pub fn app_id(mut self, app_id: u64) -> Self {
        self.app_id = Some(app_id);
        self
    }

    pub fn search_safety_lag(mut self, lag: &str) -> Self {
        self.search_safety_lag = Some(lag.into());
        self
    }

    pub fn rate_limit(mut self, rate_limit: RateLimit) -> Self {
        self.rate_limit = Some(rate_limit);
        self
    }

    /// The token written to `dir/<name>-token`.
    pub fn token_in(mut self, dir: &Path) -> Self {
        let file = format!("{}-token", self.name);
        self.token_source = Some(SecretSource::written(dir, &file, &self.token));
        self
    }

    /// The token read from environment variable `var` (see [`HubspotToml::token`]).
    pub fn token_from_env(mut self, var: &str) -> Self {
        self.token_source = Some(SecretSource::Env(var.into()));
        self
    }

    /// The simulator's token, the value for [`HubspotToml::token_from_env`]'s variable.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn render(&self) -> String {
        let name = &self.name;
        let mut out = format!("\n[connectors.{name}]\nkind = \"hubspot\"\n");
        let _ = writeln!(out, "base_url = \"{}\"", self.base_url);
        if let Some(app_id) = self.app_id {
            let _ = writeln!(out, "app_id = {app_id}");
        }
        if let Some(lag) = &self.search_safety_lag {
            let _ = writeln!(out, "search_safety_lag = \"{lag}\"");
        }
        let token = self.token_source.as_ref().expect("the token's source is chosen").toml();
        let _ = writeln!(out, "auth = {{ method = \"private_app\", token = {token} }}");
        if let Some(rate_limit) = &self.rate_limit {
            out.push_str(&rate_limit.toml(name));
        }
        out
    }
}

/// The `kind = "salesforce"` connector `salesforce`, logging in with client credentials.
#[derive(Clone, Debug)]
pub struct SalesforceToml {
    login_url: String,
    client_id: String,
    client_secret: String,
    secret_source: Option<SecretSource>,
    api_version: Option<String>,
    overlap: Option<String>,
}

impl SalesforceToml {
    /// The connector at `sim` with its client credentials; the secret's source must still
    /// be chosen.
    pub fn new(sim: &SalesforceSim) -> SalesforceToml {
        let config = sim.config();
        SalesforceToml::at(sim.base_url(), &config.client_id, &config.client_secret)
    }

    /// The connector logging in at `login_url` (a simulator's, or a closed port).
    pub fn at(login_url: &str, client_id: &str, client_secret: &str) -> SalesforceToml {
        SalesforceToml {
            login_url: login_url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            secret_source: None,
            api_version: None,
            overlap: None,
        }
    }

    /// The simulator's default credentials at `login_url`, where no simulator may run.
    pub fn default_credentials_at(login_url: &str) -> SalesforceToml {
        let config = salesforce_sim::SimConfig::default();
        SalesforceToml::at(login_url, &config.client_id, &config.client_secret)
    }

    pub fn api_version(mut self, version: &str) -> Self {
        self.api_version = Some(version.into());
        self
    }

    pub fn overlap(mut self, overlap: &str) -> Self {
        self.overlap = Some(overlap.into());
        self
    }

    /// The client secret written to `dir/salesforce-secret`.
    pub fn secret_in(mut self, dir: &Path) -> Self {
        let source = SecretSource::written(dir, "salesforce-secret", &self.client_secret);
        self.secret_source = Some(source);
        self
    }

    /// The client secret read from environment variable `var` (see
    /// [`SalesforceToml::client_secret`]).
    pub fn secret_from_env(mut self, var: &str) -> Self {
        self.secret_source = Some(SecretSource::Env(var.into()));
        self
    }

    /// The client secret, the value for [`SalesforceToml::secret_from_env`]'s variable.
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    pub fn render(&self) -> String {
        let mut out = String::from("\n[connectors.salesforce]\nkind = \"salesforce\"\n");
        let _ = writeln!(out, "login_url = \"{}\"", self.login_url);
        if let Some(version) = &self.api_version {
            let _ = writeln!(out, "api_version = \"{version}\"");
        }
        if let Some(overlap) = &self.overlap {
            let _ = writeln!(out, "overlap = \"{overlap}\"");
        }
        let secret = self.secret_source.as_ref().expect("the secret's source is chosen").toml();
        let _ = writeln!(
            out,
            "auth = {{ method = \"client_credentials\", client_id = \"{}\", client_secret = \
             {secret} }}",
            self.client_id
        );
        out
    }
}

/// `[connectors.hubspot]` and `[connectors.salesforce]` pointing at both simulators, e.g.
/// `ConnectorsToml::new(&hubspot, &salesforce).hubspot_rate(RateLimit::generous())
/// .secrets_in(dir).render()`.
#[derive(Clone, Debug)]
pub struct ConnectorsToml {
    pub hubspot: HubspotToml,
    pub salesforce: SalesforceToml,
}

impl ConnectorsToml {
    /// Both connectors at their simulators, with nothing optional set.
    pub fn new(hubspot: &HubspotSim, salesforce: &SalesforceSim) -> ConnectorsToml {
        ConnectorsToml::with(HubspotToml::new(hubspot), SalesforceToml::new(salesforce))
    }

    pub fn with(hubspot: HubspotToml, salesforce: SalesforceToml) -> ConnectorsToml {
        ConnectorsToml { hubspot, salesforce }
    }

    /// What a syncing daemon's tests and benchmarks set: HubSpot's app id, no search
    /// safety lag (the simulator's search index is never behind), API version v60.0.
    pub fn for_sync(self) -> Self {
        let hubspot = self.hubspot.app_id(54321).search_safety_lag("0s");
        ConnectorsToml { hubspot, salesforce: self.salesforce.api_version("v60.0") }
    }

    pub fn hubspot_rate(mut self, rate_limit: RateLimit) -> Self {
        self.hubspot = self.hubspot.rate_limit(rate_limit);
        self
    }

    pub fn salesforce_overlap(mut self, overlap: &str) -> Self {
        self.salesforce = self.salesforce.overlap(overlap);
        self
    }

    /// Both secrets written to files in `dir`.
    pub fn secrets_in(self, dir: &Path) -> Self {
        ConnectorsToml::with(self.hubspot.token_in(dir), self.salesforce.secret_in(dir))
    }

    /// HubSpot's token from `hubspot_var`, Salesforce's client secret from
    /// `salesforce_var`; [`HubspotToml::token`] and [`SalesforceToml::client_secret`]
    /// give their values.
    pub fn secrets_from_env(self, hubspot_var: &str, salesforce_var: &str) -> Self {
        let hubspot = self.hubspot.token_from_env(hubspot_var);
        ConnectorsToml::with(hubspot, self.salesforce.secret_from_env(salesforce_var))
    }

    pub fn render(&self) -> String {
        self.hubspot.render() + &self.salesforce.render()
    }
}

//! Two-way sync end to end: the real daemon (pollers, reconciler, writer) between the
//! HubSpot and Salesforce simulators, on a fresh database.

mod associations;
mod basics;
mod clock_skew;
mod compare;
mod conflicts;
mod crash;
mod crash_points;
mod credentials;
mod deletes;
mod doubtful;
mod echoes;
mod failures;
mod hostile;
mod hydration;
mod leases;
mod least_privilege;
mod operator;
mod outage;
mod plan;
mod portals;
mod shutdown;
mod storms;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hubspot_sim::{HubspotSim, RateProfile};
use hubsync::config::Settings;
use hubsync::connector::Connector;
use salesforce_sim::SalesforceSim;
use serde_json::Value;
use testkit::settings::fast;
use testkit::sims::{self, ConnectorsToml, RateLimit, SecretSource, simulators};

use crate::support::app::{TestApp, run_on, start, test_settings_with_file};
use crate::support::database::TestDatabase;
use crate::support::proxy::ToggleProxy;

/// The contacts block most tests use: both ways, keyed both ways, matched by email.
pub const CONTACTS: &str = r#"
[[sync]]
name = "contacts"
hubspot_object = "contacts"
external_connector = "salesforce"
external_object = "Contact"
match_on = ["email"]
conflict = "CONFLICT"
delete = "DELETE"
keys = { hubspot_unique_property = "salesforce_id", external_id_field = "HubSpot_Id__c" }
fields = [
  { hubspot = "email", external = "Email" },
  { hubspot = "firstname", external = "FirstName" },
  { hubspot = "lastname", external = "LastName" },
  { hubspot = "phone", external = "Phone" },
]
"#;

/// Both simulators, the daemon between them, and a connector to each for checks.
pub struct Rig {
    pub hubspot: HubspotSim,
    pub salesforce: SalesforceSim,
    pub app: Option<TestApp>,
    pub settings: Settings,
    /// The config file the daemon runs with, for the CLI.
    pub config: String,
    pub hubspot_api: Arc<dyn Connector>,
    pub salesforce_api: Arc<dyn Connector>,
    _secrets: tempfile::TempDir,
}

/// The contacts block with a conflict and delete policy.
pub fn contacts(conflict: &str, delete: &str) -> String {
    CONTACTS.replace("CONFLICT", conflict).replace("DELETE", delete)
}

/// The two queues a [`Rig`] can count.
pub enum Queue {
    Journal,
    Outbox,
}

impl Rig {
    /// Starts both simulators and the daemon with `rules` (`[[sync]]` blocks).
    pub async fn start(rules: &str) -> Rig {
        Rig::start_with(rules, RateProfile::UNLIMITED, &[]).await
    }

    pub async fn start_with(rules: &str, rate: RateProfile, extra: &[(&str, &str)]) -> Rig {
        let rig = Rig::launch(rules, rate, extra).await;
        rig.app().wait_until_ready().await;
        rig
    }

    /// Starts the daemon with HubSpot's webhooks on as well as the pollers: the simulator
    /// signs and sends contact and company events to the daemon's receiver.
    pub async fn start_with_webhooks(rules: &str) -> Rig {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rig = Rig::open(rules, RateProfile::UNLIMITED, &[], Some(listener), None).await;
        rig.app().wait_until_ready().await;
        rig
    }

    /// Starts the daemon, with webhooks on, reaching its database through a proxy the test
    /// can cut to play an outage; returns the proxy too, up.
    pub async fn start_behind_proxy(rules: &str, extra: &[(&str, &str)]) -> (Rig, ToggleProxy) {
        let server = std::env::var("DATABASE_URL").expect("DATABASE_URL names the test server");
        let proxy = ToggleProxy::start(crate::support::proxy::postgres_addr(&server)).await;
        proxy.bring_up();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rig =
            Rig::open(rules, RateProfile::UNLIMITED, extra, Some(listener), Some(&proxy)).await;
        rig.app().wait_until_ready().await;
        (rig, proxy)
    }

    /// Starts the daemon without waiting for it to be ready (it may stop at once).
    pub async fn launch(rules: &str, rate: RateProfile, extra: &[(&str, &str)]) -> Rig {
        Rig::open(rules, rate, extra, None, None).await
    }

    /// The simulators and the daemon; with a `webhooks` listener, the daemon serves on it
    /// and the HubSpot simulator delivers its events there. With a `proxy`, the daemon
    /// reaches its database through it.
    async fn open(
        rules: &str,
        rate: RateProfile,
        extra: &[(&str, &str)],
        webhooks: Option<tokio::net::TcpListener>,
        proxy: Option<&ToggleProxy>,
    ) -> Rig {
        crate::support::init_test_log();
        let (hubspot, salesforce) = simulators(rate).await;
        let secrets = tempfile::tempdir().unwrap();
        let receiver = webhooks.as_ref().map(|l| l.local_addr().unwrap());
        let mut file = config_file(&hubspot, &salesforce, &secrets, rules);
        if let Some(admin) = receiver {
            file.push_str(&subscribe(&hubspot, &secrets, admin));
        }
        let db = TestDatabase::create().await;
        let url = match proxy {
            Some(proxy) => crate::support::proxy::through(&db.url, proxy),
            None => db.url.clone(),
        };
        let settings = test_settings_with_file(&url, Some(&file), &fast(extra));
        let hubspot_api = connector(&settings, "hubspot");
        let salesforce_api = connector(&settings, "salesforce");
        let app = match webhooks {
            Some(listener) => run_on(listener, settings.clone(), db),
            None => start(settings.clone(), Some(db)).await,
        };
        Rig {
            hubspot,
            salesforce,
            app: Some(app),
            settings,
            config: file,
            hubspot_api,
            salesforce_api,
            _secrets: secrets,
        }
    }

    /// From now on, HubSpot holds each webhook batch back `delay` (none when zero), so
    /// later notices can overtake it.
    pub fn delay_webhooks(&self, delay: Duration) {
        let mut settings =
            self.hubspot.state().webhooks.current().expect("webhooks are on").as_ref().clone();
        settings.chaos.delay_fraction = if delay.is_zero() { 0.0 } else { 1.0 };
        settings.chaos.delay = delay;
        self.hubspot.set_webhooks(Some(settings));
    }

    pub fn app(&self) -> &TestApp {
        self.app.as_ref().expect("the daemon is running")
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.app().pool
    }

    /// Stops the daemon, keeping its database, and starts it again.
    pub async fn restart(&mut self) {
        let db = self.stop().await;
        self.resume(db).await;
    }

    /// Stops the daemon gracefully; its database is handed back for [`Rig::resume`].
    pub async fn stop(&mut self) -> Option<TestDatabase> {
        let mut app = self.app.take().expect("the daemon is running");
        let db = app.db.take();
        app.stop().await.expect("the daemon stops cleanly");
        db
    }

    pub async fn resume(&mut self, db: Option<TestDatabase>) {
        let app = start(self.settings.clone(), db).await;
        app.wait_until_ready().await;
        self.app = Some(app);
    }

    /// Waits until nothing is pending in the journal or the outbox, twice in a row a
    /// poll interval apart; panics after `within`.
    pub async fn quiesce(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        let mut quiet = 0;
        loop {
            let busy = self.busy().await;
            quiet = if busy == 0 { quiet + 1 } else { 0 };
            if quiet >= 4 {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "still {busy} journal rows or outbox items in flight after {within:?}:\n{}",
                    self.in_flight().await
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The unsettled journal rows and outbox items, for a failing test's message.
    pub async fn in_flight(&self) -> String {
        let rows: Vec<String> = sqlx::query_scalar(
            "select format('%s %s %s %s attempts=%s reason=%s error=%s', id, side, record_id,
                        status, attempts, reason, last_error)
                 from hubsync.journal where status in ('pending', 'processing') order by id",
        )
        .fetch_all(self.pool())
        .await
        .unwrap();
        let items: Vec<String> = sqlx::query_scalar(
            "select format('%s %s %s %s %s attempts=%s error=%s', id, target_side, operation,
                        target_id, status, attempts, last_error)
                 from hubsync.outbox where status in ('pending', 'processing') order by id",
        )
        .fetch_all(self.pool())
        .await
        .unwrap();
        format!("journal: {rows:?}\noutbox: {items:?}")
    }

    async fn busy(&self) -> i64 {
        self.queued(Queue::Journal).await + self.queued(Queue::Outbox).await
    }

    /// The journal rows or outbox items not yet settled.
    pub async fn queued(&self, queue: Queue) -> i64 {
        let table = match queue {
            Queue::Journal => "journal",
            Queue::Outbox => "outbox",
        };
        let sql = format!(
            "select count(*) from hubsync.{table} where status in ('pending', 'processing')"
        );
        sqlx::query_scalar(&sql).fetch_one(self.pool()).await.unwrap()
    }

    /// Waits until `check` holds, polling; panics with `what` after `within`.
    pub async fn wait_for<F, Fut>(&self, what: &str, within: Duration, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + within;
        while !check().await {
            if tokio::time::Instant::now() >= deadline {
                let failed: Vec<String> = sqlx::query_scalar(
                    "select format('%s %s %s %s %s at=%s src=%s props=%s', id, record_id, kind,
                            status, coalesce(last_error, reason), occurred_at, source, properties)
                     from hubsync.journal order by id desc limit 20",
                )
                .fetch_all(self.pool())
                .await
                .unwrap_or_default();
                panic!(
                    "{what} did not happen within {within:?}\n{}\nlatest rows: {failed:?}",
                    self.in_flight().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates a HubSpot contact as a user (owner 7) and waits until it is linked and the
    /// sync is quiet; returns its id and its Salesforce partner's.
    pub async fn linked_contact(&self, properties: Value) -> (u64, String) {
        let within = Duration::from_secs(30);
        let id = self.hubspot.create_as_user("contacts", properties, 7).unwrap();
        let partner = || async {
            let links = self.links("contacts").await;
            links.into_iter().find(|(hs, _)| *hs == id.to_string()).map(|(_, sf)| sf)
        };
        self.wait_for("the link", within, || async { partner().await.is_some() }).await;
        self.quiesce(within).await;
        (id, partner().await.expect("linked"))
    }

    /// Outbox items written so far, by operation.
    pub async fn writes(&self) -> BTreeMap<String, i64> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "select operation || ' ' || target_side, count(*) from hubsync.outbox
             where status = 'done' group by 1",
        )
        .fetch_all(self.pool())
        .await
        .unwrap();
        rows.into_iter().collect()
    }

    pub async fn write_count(&self) -> i64 {
        self.writes().await.values().sum()
    }

    pub async fn links(&self, sync: &str) -> Vec<(String, String)> {
        sqlx::query_as(
            "select hubspot_id, external_id from hubsync.links where sync_name = $1 order by id",
        )
        .bind(sync)
        .fetch_all(self.pool())
        .await
        .unwrap()
    }

    /// The HubSpot contact's properties.
    pub fn hubspot_contact(&self, id: &str) -> std::collections::HashMap<String, String> {
        let id: u64 = id.parse().expect("a HubSpot id");
        self.hubspot.record("contacts", id).expect("the contact exists").properties
    }

    /// The Salesforce record's fields.
    pub fn salesforce_record(&self, id: &str) -> Value {
        self.salesforce.record(id).expect("the record exists")
    }

    /// Every live record of an object through its connector, by id.
    pub async fn all(
        &self,
        api: &Arc<dyn Connector>,
        object: &str,
        fields: &[&str],
    ) -> BTreeMap<String, hubsync::connector::Properties> {
        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        let mut records = BTreeMap::new();
        let mut page: Option<String> = None;
        loop {
            let listed =
                api.read_all(object, page.as_deref(), &fields).await.expect("listing works");
            for record in listed.records {
                records.insert(record.id, record.properties);
            }
            match listed.next {
                Some(next) => page = Some(next),
                None => return records,
            }
        }
    }
}

/// HubSpot's webhook events the daemon subscribes to in [`Rig::start_with_webhooks`].
const WEBHOOK_EVENTS: [&str; 8] = [
    "contact.creation",
    "contact.propertyChange",
    "contact.associationChange",
    "contact.deletion",
    "contact.privacyDeletion",
    "contact.merge",
    "company.creation",
    "company.propertyChange",
];

/// Points the HubSpot simulator's webhooks at the daemon's receiver on `admin`; returns
/// the daemon's `[webhooks.hubspot]` section.
fn subscribe(hubspot: &HubspotSim, secrets: &tempfile::TempDir, admin: SocketAddr) -> String {
    let secret = "rig-webhook-secret";
    let target = sims::subscribe(hubspot, admin, secret, &WEBHOOK_EVENTS);
    let file = SecretSource::written(secrets.path(), "hubspot-webhook-secret", secret);
    sims::webhooks_toml(&target, &file)
}

/// The daemon's config: both simulators' connectors, then `rules`.
fn config_file(
    hubspot: &HubspotSim,
    salesforce: &SalesforceSim,
    secrets: &tempfile::TempDir,
    rules: &str,
) -> String {
    let connectors = ConnectorsToml::new(hubspot, salesforce)
        .for_sync()
        .hubspot_rate(RateLimit::generous())
        .salesforce_overlap("2s")
        .secrets_in(secrets.path());
    format!("{}\n{rules}\n", connectors.render())
}

fn connector(settings: &Settings, name: &str) -> Arc<dyn Connector> {
    hubsync::connector::from_settings(name, &settings.connectors[name], "hubsync-test-checks")
        .expect("connector builds")
}

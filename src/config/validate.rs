//! Checks on parsed settings that types alone cannot express: ranges, references, secrets.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ::config::{Config, Value, ValueKind};

use super::connector::SalesforceSettings;
use super::connector::{ConnectorSettings, HubspotAuth, HubspotSettings, SalesforceAuth};
use super::error::{ConfigError, Problem};
use super::secret::{Secret, SecretProblem};
use super::settings::Settings;
use super::sync::{PredicateOp, SyncRule, Transform, UnmappedPolicy};

/// Finds where a key's value came from, so every problem can name its file.
pub(super) struct Origins<'a> {
    pub layers: &'a Config,
    pub env: &'a HashMap<String, String>,
    pub file: Option<&'a std::path::Path>,
}

impl Origins<'_> {
    pub(super) fn of(&self, key: &str) -> Option<String> {
        if key == "database.url" && self.env.get("DATABASE_URL").is_some_and(|v| !v.is_empty()) {
            return Some("environment variable DATABASE_URL".into());
        }
        // a key that is missing is named with the table it belongs in
        let mut path = key;
        let node = loop {
            if let Some(node) = find(&self.layers.cache, path) {
                break node;
            }
            path = path.rsplit_once('.')?.0;
        };
        Some(match origin_in(node) {
            Some(super::ENV_ORIGIN) => format!("environment variable {}", env_name(key)),
            Some(_) => {
                self.file.map_or_else(|| "the config file".into(), |f| f.display().to_string())
            }
            None => "built-in defaults".into(),
        })
    }

    /// The raw origin string of a key, as `config` recorded it.
    fn raw(&self, key: &str) -> Option<&str> {
        find(&self.layers.cache, key).and_then(origin_in)
    }
}

/// Walks a dotted key with `[n]` indexes, e.g. `sync[0].fields[2].transform`.
fn find<'v>(root: &'v Value, key: &str) -> Option<&'v Value> {
    let mut node = root;
    for segment in key.split('.') {
        let (name, indexes) = segment.split_once('[').unwrap_or((segment, ""));
        node = match &node.kind {
            ValueKind::Table(map) => map.get(name)?,
            _ => return None,
        };
        for index in indexes.split('[').filter(|i| !i.is_empty()) {
            let index: usize = index.trim_end_matches(']').parse().ok()?;
            node = match &node.kind {
                ValueKind::Array(items) => items.get(index)?,
                _ => return None,
            };
        }
    }
    Some(node)
}

/// A value's origin; for a table, the origin of a value inside it, preferring non-defaults.
fn origin_in(value: &Value) -> Option<&str> {
    let children: Vec<&Value> = match &value.kind {
        ValueKind::Table(map) => map.values().collect(),
        ValueKind::Array(items) => items.iter().collect(),
        _ => return value.origin(),
    };
    children.into_iter().filter_map(origin_in).next().or(value.origin())
}

fn env_name(key: &str) -> String {
    format!("HUBSYNC__{}", key.replace('.', "__").to_uppercase())
}

/// Collects problems; each one is recorded with its key's origin, and whether it is only a
/// secret that is not available here.
struct Checker<'a> {
    origins: &'a Origins<'a>,
    problems: Vec<(Problem, bool)>,
}

impl Checker<'_> {
    fn fail(&mut self, key: &str, message: impl Into<String>) {
        self.record(key, message.into(), false);
    }

    fn record(&mut self, key: &str, message: String, unavailable: bool) {
        let origin = self.origins.of(key);
        self.problems.push((Problem { key: key.into(), message, origin }, unavailable));
    }

    fn range(&mut self, key: &str, value: u64, min: u64, max: u64) {
        if !(min..=max).contains(&value) {
            self.fail(key, format!("must be {min}..={max}, got {value}"));
        }
    }

    fn duration(&mut self, key: &str, value: Duration, min: Duration, max: Duration) {
        if value < min || value > max {
            let show = |d: Duration| humantime::format_duration(d).to_string();
            self.fail(key, format!("must be {}..={}, got {}", show(min), show(max), show(value)));
        }
    }

    fn url(&mut self, key: &str, value: &str, schemes: &[&str]) {
        match reqwest::Url::parse(value) {
            Ok(url) if schemes.contains(&url.scheme()) => {}
            Ok(url) => self.fail(
                key,
                format!("scheme `{}` is not allowed; use {}", url.scheme(), schemes.join(" or ")),
            ),
            Err(err) => {
                let shown = without_credentials(value);
                self.fail(key, format!("`{shown}` is not a URL: {err}"));
            }
        }
    }

    fn secret(&mut self, key: &str, secret: &mut Secret) {
        match secret.resolve(self.origins.env, self.origins.raw(key)) {
            Ok(()) => {}
            Err(SecretProblem::Invalid(message)) => self.record(key, message, false),
            Err(SecretProblem::Unavailable(message)) => self.record(key, message, true),
        }
    }

    fn name(&mut self, key: &str, value: &str) {
        let ok = !value.is_empty()
            && value.len() <= 64
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            self.fail(key, format!("`{value}` must be 1 to 64 characters of a-z, 0-9, `_` or `-`"));
        }
    }
}

/// A URL that did not parse, with whatever may be user and password replaced: everything
/// between `scheme://` (or the start) and the last `@`.
fn without_credentials(value: &str) -> String {
    let Some(at) = value.rfind('@') else { return value.to_string() };
    let start = value[..at].find("://").map_or(0, |i| i + 3);
    format!("{}[redacted]{}", &value[..start], &value[at..])
}

/// Checks the settings and resolves their secrets. Returns the secrets that are not
/// available here when they are the only problems; any other problem is an error that
/// lists them all.
pub(super) fn validate(
    settings: &mut Settings,
    origins: &Origins<'_>,
) -> Result<Vec<Problem>, ConfigError> {
    let mut check = Checker { origins, problems: Vec::new() };
    check_core(&mut check, settings);
    check_admin_tokens(&mut check, &mut settings.admin.tokens);
    let instance = settings.instance.id.clone();
    for (name, connector) in settings.connectors.iter_mut() {
        check.name(&format!("connectors.{name}"), name);
        match connector {
            ConnectorSettings::Hubspot(hs) => check_hubspot(&mut check, name, hs),
            ConnectorSettings::Salesforce(sf) => {
                sf.client_name.get_or_insert_with(|| default_client_name(&instance));
                check_salesforce(&mut check, name, sf);
            }
        }
    }
    check_webhooks(&mut check, settings);
    check_sync_rules(&mut check, settings);
    if check.problems.iter().all(|(_, unavailable)| *unavailable) {
        Ok(check.problems.into_iter().map(|(problem, _)| problem).collect())
    } else {
        Err(ConfigError::Invalid(check.problems.into_iter().map(|(problem, _)| problem).collect()))
    }
}

fn check_core(check: &mut Checker<'_>, settings: &Settings) {
    let secs = Duration::from_secs;
    check.name("instance.id", &settings.instance.id);
    let db = &settings.database;
    check.url("database.url", &db.url, &["postgres", "postgresql"]);
    check.range("database.max_connections", db.max_connections.get().into(), 1, 200);
    check.duration(
        "database.acquire_timeout",
        db.acquire_timeout,
        Duration::from_millis(100),
        secs(300),
    );
    check.duration(
        "database.statement_timeout",
        db.statement_timeout,
        Duration::from_millis(100),
        secs(3600),
    );
    check.duration("database.lock_timeout", db.lock_timeout, Duration::from_millis(10), secs(600));
    check.duration(
        "database.startup_retry_delay",
        db.startup_retry_delay,
        Duration::from_millis(10),
        secs(60),
    );
    check.range("database.startup_attempts", db.startup_attempts.get().into(), 1, 10_000);
    if db.application_name.is_empty() || db.application_name.len() > 63 {
        check.fail("database.application_name", "must be 1 to 63 characters");
    }
    check.range("admin.max_body_bytes", settings.admin.max_body_bytes.get().into(), 1024, 16 << 20);
    check.duration("admin.max_clock_skew", settings.admin.max_clock_skew, secs(2), secs(3600));
    let http = &settings.http;
    let ms = Duration::from_millis;
    check.duration("http.header_read_timeout", http.header_read_timeout, ms(100), secs(300));
    check.duration("http.body_read_timeout", http.body_read_timeout, ms(100), secs(3600));
    check.range("http.max_connections", http.max_connections.get().into(), 1, 100_000);
    let poll = settings.ingest.poll_interval;
    check.duration("ingest.poll_interval", poll, Duration::from_millis(50), secs(86_400));
    let sweep = settings.ingest.sweep_interval;
    check.duration("ingest.sweep_interval", sweep, secs(1), secs(30 * 86_400));
    let gone_share = settings.ingest.sweep_max_gone_share;
    if !(gone_share > 0.0 && gone_share <= 1.0) {
        check.fail("ingest.sweep_max_gone_share", format!("must be in (0, 1], got {gone_share}"));
    }
    let min_gone = settings.ingest.sweep_min_gone_records.into();
    check.range("ingest.sweep_min_gone_records", min_gone, 1, 1_000_000);
    check_sync_tuning(check, settings);
    let journal = &settings.journal;
    check.range("journal.max_attempts", journal.max_attempts.get().into(), 1, 1000);
    check.duration("journal.lease", journal.lease, secs(5), secs(3600));
    check.duration(
        "journal.poll_interval",
        journal.poll_interval,
        Duration::from_millis(10),
        secs(300),
    );
    check.duration("journal.retention", journal.retention, secs(3600), secs(10 * 365 * 86_400));
    check.duration("journal.prune_interval", journal.prune_interval, secs(1), secs(86_400));
    check.range("journal.prune_batch", journal.prune_batch.get().into(), 1, 100_000);
    check.duration(
        "shutdown.grace_period",
        settings.shutdown.grace_period,
        Duration::from_millis(100),
        secs(600),
    );
}

fn check_sync_tuning(check: &mut Checker<'_>, settings: &Settings) {
    let ms = Duration::from_millis;
    check.range("reconciler.batch", settings.reconciler.batch.get().into(), 1, 10_000);
    let writer = &settings.writer;
    check.duration("writer.fill_wait", writer.fill_wait, Duration::ZERO, ms(10_000));
    check.range("writer.claim", writer.claim.get().into(), 1, 100_000);
    check.range("writer.concurrency", writer.concurrency.get().into(), 1, 64);
    check.duration("writer.lease", writer.lease, ms(5_000), ms(3_600_000));
    check.range("writer.max_attempts", writer.max_attempts.get().into(), 1, 1000);
    check.duration("writer.link_wait", writer.link_wait, ms(1_000), ms(7 * 86_400_000));
    let guard = &writer.blast_radius;
    if !(guard.max_share > 0.0 && guard.max_share <= 1.0) {
        let got = guard.max_share;
        check.fail("writer.blast_radius.max_share", format!("must be in (0, 1], got {got}"));
    }
    check.duration("writer.blast_radius.window", guard.window, ms(1_000), ms(7 * 86_400_000));
}

fn check_admin_tokens(check: &mut Checker<'_>, tokens: &mut [super::settings::AdminToken]) {
    let mut names = HashSet::new();
    for (i, token) in tokens.iter_mut().enumerate() {
        check.name(&format!("admin.tokens[{i}].name"), &token.name);
        if !names.insert(token.name.clone()) {
            check.fail(
                &format!("admin.tokens[{i}].name"),
                format!("`{}` names two tokens", token.name),
            );
        }
        check.secret(&format!("admin.tokens[{i}].token"), &mut token.token);
        let short = token.token.value_if_resolved().is_some_and(|v| v.len() < 16);
        if short {
            check.fail(&format!("admin.tokens[{i}].token"), "must be at least 16 characters");
        }
    }
}

fn check_webhooks(check: &mut Checker<'_>, settings: &mut Settings) {
    if let Some(listen) = settings.webhooks.listen {
        if settings.webhooks.hubspot.is_none() {
            check.fail("webhooks.listen", "is set, but no receiver ([webhooks.hubspot]) is");
        } else if listen == settings.admin.listen && listen.port() != 0 {
            check.fail("webhooks.listen", format!("`{listen}` is admin.listen too"));
        }
    }
    let Some(hook) = settings.webhooks.hubspot.as_mut() else { return };
    match settings.connectors.get(&hook.connector) {
        Some(ConnectorSettings::Hubspot(_)) => {}
        _ => check.fail(
            "webhooks.hubspot.connector",
            format!("no hubspot connector is named `{}`", hook.connector),
        ),
    }
    check.url("webhooks.hubspot.public_url", &hook.public_url, &["http", "https"]);
    check.secret("webhooks.hubspot.client_secret", &mut hook.client_secret);
    if let Some(previous) = hook.previous_client_secret.as_mut() {
        check.secret("webhooks.hubspot.previous_client_secret", previous);
    }
    let max = hook.max_body_bytes.get().into();
    check.range("webhooks.hubspot.max_body_bytes", max, 1024, 64 << 20);
}

fn check_hubspot(check: &mut Checker<'_>, name: &str, hs: &mut HubspotSettings) {
    let key = |field: &str| format!("connectors.{name}.{field}");
    check.url(&key("base_url"), &hs.base_url, &["http", "https"]);
    if !is_path_version(&hs.path_version) {
        let got = &hs.path_version;
        check.fail(&key("path_version"), format!("must be like `v3` or `2026-03`, got `{got}`"));
    }
    if hs.rate_limit.tier == super::connector::HubspotTier::Unlimited {
        check_unlimited(check, name, hs);
    }
    let limits = &hs.rate_limit;
    if let Some(burst) = limits.burst_per_10s {
        check.range(&key("rate_limit.burst_per_10s"), burst.into(), 1, 250);
    }
    if let Some(daily) = limits.daily {
        check.range(&key("rate_limit.daily"), daily.into(), 1, 5_000_000);
    }
    if let Some(search) = limits.search_per_second {
        check.range(&key("rate_limit.search_per_second"), search.into(), 1, 50);
    }
    if hs.account_timezone.parse::<chrono_tz::Tz>().is_err() {
        let got = &hs.account_timezone;
        check.fail(&key("account_timezone"), format!("`{got}` is not an IANA time zone name"));
    }
    let secs = Duration::from_secs;
    check.duration(&key("request_timeout"), hs.request_timeout, secs(1), secs(300));
    let lag = hs.search_safety_lag;
    check.duration(&key("search_safety_lag"), lag, Duration::ZERO, secs(3600));
    check.range(&key("concurrency"), hs.concurrency as u64, 1, 64);
    let probe = hs.credential_probe_interval;
    check.duration(&key("credential_probe_interval"), probe, secs(1), secs(3600));
    settle_rate_limit(&mut hs.rate_limit);
    match &mut hs.auth {
        HubspotAuth::PrivateApp { token } => check.secret(&key("auth.token"), token),
        HubspotAuth::Oauth { client_id, client_secret, refresh_token } => {
            if client_id.is_empty() {
                check.fail(&key("auth.client_id"), "must not be empty");
            }
            check.secret(&key("auth.client_secret"), client_secret);
            check.secret(&key("auth.refresh_token"), refresh_token);
        }
    }
}

/// `hubsync-<instance>`, unless the instance id already says hubsync.
fn default_client_name(instance: &str) -> String {
    if instance.starts_with("hubsync") {
        instance.to_string()
    } else {
        format!("hubsync-{instance}")
    }
}

/// The `unlimited` tier is for simulators: it sets its own numbers, and never points at
/// HubSpot, where it would only collect 429s.
fn check_unlimited(check: &mut Checker<'_>, name: &str, hs: &HubspotSettings) {
    let key = format!("connectors.{name}.rate_limit.tier");
    let limits = &hs.rate_limit;
    if limits.burst_per_10s.is_some()
        || limits.daily.is_some()
        || limits.search_per_second.is_some()
    {
        check.fail(
            &key,
            "`unlimited` takes no burst_per_10s, daily or search_per_second; remove them or \
             choose a HubSpot tier",
        );
    }
    let host = reqwest::Url::parse(&hs.base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase));
    if host.is_some_and(|h| h == "hubapi.com" || h.ends_with(".hubapi.com")) {
        check.fail(
            &key,
            format!(
                "`unlimited` is for a simulator, but base_url is HubSpot's API ({}); choose the \
                 portal's tier",
                hs.base_url
            ),
        );
    }
}

/// Writes the tier's numbers into the unset limits, so the effective config shows them.
fn settle_rate_limit(limits: &mut super::connector::HubspotRateLimit) {
    limits.burst_per_10s = Some(limits.effective_burst_per_10s());
    limits.daily = Some(limits.effective_daily());
    limits.search_per_second = Some(limits.effective_search_per_second());
}

fn is_path_version(text: &str) -> bool {
    let numbered = text
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let dated = chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").is_ok()
        && text.len() == 7;
    numbered || dated
}

fn check_salesforce(check: &mut Checker<'_>, name: &str, sf: &mut SalesforceSettings) {
    let key = |field: &str| format!("connectors.{name}.{field}");
    check.url(&key("login_url"), &sf.login_url, &["http", "https"]);
    match parse_api_version(&sf.api_version) {
        Some(v) if v >= 42.0 => {}
        Some(_) => check.fail(&key("api_version"), "must be v42.0 or newer (sObject collections)"),
        None => {
            let got = &sf.api_version;
            check.fail(&key("api_version"), format!("must be like `v60.0`, got `{got}`"));
        }
    }
    let fraction = sf.daily_budget_fraction;
    if !(fraction > 0.0 && fraction <= 1.0) {
        check.fail(&key("daily_budget_fraction"), format!("must be in (0, 1], got {fraction}"));
    }
    if let Some(client) = &sf.client_name {
        check.name(&key("client_name"), client);
    }
    let secs = Duration::from_secs;
    check.duration(&key("request_timeout"), sf.request_timeout, secs(1), secs(300));
    check.duration(&key("overlap"), sf.overlap, Duration::ZERO, secs(3600));
    check.range(&key("concurrency"), sf.concurrency as u64, 1, 64);
    let probe = sf.credential_probe_interval;
    check.duration(&key("credential_probe_interval"), probe, secs(1), secs(3600));
    match &mut sf.auth {
        SalesforceAuth::ClientCredentials { client_id, client_secret } => {
            if client_id.is_empty() {
                check.fail(&key("auth.client_id"), "must not be empty");
            }
            check.secret(&key("auth.client_secret"), client_secret);
        }
        SalesforceAuth::JwtBearer { client_id, username, private_key, .. } => {
            if client_id.is_empty() {
                check.fail(&key("auth.client_id"), "must not be empty");
            }
            if username.is_empty() {
                check.fail(&key("auth.username"), "must not be empty");
            }
            check.secret(&key("auth.private_key"), private_key);
        }
    }
}

fn parse_api_version(text: &str) -> Option<f64> {
    let number = text.strip_prefix('v')?;
    let (major, minor) = number.split_once('.')?;
    if major.is_empty()
        || minor.is_empty()
        || !(major.bytes().chain(minor.bytes()).all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    number.parse().ok()
}

fn check_sync_rules(check: &mut Checker<'_>, settings: &Settings) {
    let names: HashSet<&str> = settings.sync.iter().map(|rule| rule.name.as_str()).collect();
    let mut seen = HashSet::new();
    for (index, rule) in settings.sync.iter().enumerate() {
        let key = format!("sync[{index}]");
        check.name(&format!("{key}.name"), &rule.name);
        if !seen.insert(rule.name.as_str()) {
            check
                .fail(&format!("{key}.name"), format!("`{}` names two [[sync]] blocks", rule.name));
        }
        check_sides(check, &key, rule, settings);
        check_keys(check, &key, rule);
        check_fields(check, &key, rule);
        check_filter(check, &key, rule);
        for (i, assoc) in rule.associations.iter().enumerate() {
            if !names.contains(assoc.to.as_str()) {
                let to = &assoc.to;
                check.fail(
                    &format!("{key}.associations[{i}].to"),
                    format!("no [[sync]] block is named `{to}`"),
                );
            }
        }
    }
}

fn check_sides(check: &mut Checker<'_>, key: &str, rule: &SyncRule, settings: &Settings) {
    let block = &rule.name;
    match settings.connectors.get(&rule.hubspot_connector) {
        Some(ConnectorSettings::Hubspot(_)) => {}
        Some(other) => check.fail(
            &format!("{key}.hubspot_connector"),
            format!(
                "[[sync]] `{block}`: connector `{}` is {}, not hubspot",
                rule.hubspot_connector,
                other.kind()
            ),
        ),
        None => check.fail(
            &format!("{key}.hubspot_connector"),
            format!("[[sync]] `{block}`: no connector is named `{}`", rule.hubspot_connector),
        ),
    }
    if !settings.connectors.contains_key(&rule.external_connector) {
        check.fail(
            &format!("{key}.external_connector"),
            format!("[[sync]] `{block}`: no connector is named `{}`", rule.external_connector),
        );
    } else if rule.external_connector == rule.hubspot_connector {
        check.fail(&format!("{key}.external_connector"), "must differ from hubspot_connector");
    }
    for (field, value) in
        [("hubspot_object", &rule.hubspot_object), ("external_object", &rule.external_object)]
    {
        if value.is_empty() {
            check.fail(&format!("{key}.{field}"), "must not be empty");
        }
    }
}

fn check_keys(check: &mut Checker<'_>, key: &str, rule: &SyncRule) {
    let keys = &rule.keys;
    if keys.hubspot_unique_property.is_none()
        && keys.external_id_field.is_none()
        && keys.shared.is_none()
    {
        check.fail(
            &format!("{key}.keys"),
            format!(
                "[[sync]] `{}`: set hubspot_unique_property, external_id_field or shared, \
                 so writes can upsert by a unique key",
                rule.name
            ),
        );
    }
}

fn check_fields(check: &mut Checker<'_>, key: &str, rule: &SyncRule) {
    let mut hubspot_targets = HashSet::new();
    let mut external_targets = HashSet::new();
    for (i, field) in rule.fields.iter().enumerate() {
        let fkey = format!("{key}.fields[{i}]");
        if field.hubspot.is_empty() || field.external.is_empty() {
            check.fail(&fkey, "hubspot and external must both name a field");
        }
        if let Some(direction) = field.direction.filter(|d| !d.fits_within(rule.direction)) {
            check.fail(
                &format!("{fkey}.direction"),
                format!("{direction:?} does not fit the pair's direction {:?}", rule.direction),
            );
        }
        if !hubspot_targets.insert(field.hubspot.as_str()) {
            check.fail(&format!("{fkey}.hubspot"), format!("`{}` is mapped twice", field.hubspot));
        }
        if !external_targets.insert(field.external.as_str()) {
            check
                .fail(&format!("{fkey}.external"), format!("`{}` is mapped twice", field.external));
        }
        if let Some(transform) = &field.transform {
            check_transform(check, &format!("{fkey}.transform"), transform);
        }
    }
}

fn check_transform(check: &mut Checker<'_>, key: &str, transform: &Transform) {
    let Transform::ValueMap { values, unmapped, default } = transform else {
        return;
    };
    if values.is_empty() {
        check.fail(&format!("{key}.values"), "a value map needs at least one pair");
    }
    match (unmapped, default) {
        (UnmappedPolicy::Default, None) => {
            check.fail(&format!("{key}.default"), "required when unmapped = \"default\"");
        }
        (UnmappedPolicy::Fail | UnmappedPolicy::SkipField, Some(_)) => {
            check.fail(&format!("{key}.default"), "only used when unmapped = \"default\"");
        }
        _ => {}
    }
}

fn check_filter(check: &mut Checker<'_>, key: &str, rule: &SyncRule) {
    for (i, predicate) in rule.filter.iter().enumerate() {
        let pkey = format!("{key}.filter[{i}]");
        let (needs_value, needs_values) = match predicate.op {
            PredicateOp::Eq | PredicateOp::Neq => (true, false),
            PredicateOp::In | PredicateOp::NotIn => (false, true),
            PredicateOp::IsSet | PredicateOp::IsBlank => (false, false),
        };
        if needs_value != predicate.value.is_some() {
            let verb = if needs_value { "needs" } else { "takes no" };
            check.fail(&format!("{pkey}.value"), format!("{:?} {verb} `value`", predicate.op));
        }
        if needs_values == predicate.values.is_empty() {
            let verb = if needs_values { "needs a non-empty" } else { "takes no" };
            check.fail(&format!("{pkey}.values"), format!("{:?} {verb} `values`", predicate.op));
        }
    }
}

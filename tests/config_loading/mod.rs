//! Config layering, validation and redaction, through `config::load` as start-up uses it.

use std::collections::HashMap;
use std::io::Write;

use hubsync::config::{self, ConfigError, ConfigSources, Problem, Settings};

mod shape;

fn file(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(contents.as_bytes()).unwrap();
    file
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn load(contents: &str, pairs: &[(&str, &str)]) -> (Result<Settings, ConfigError>, String) {
    let file = file(contents);
    let path = file.path().display().to_string();
    let sources = ConfigSources { file: Some(file.path().to_path_buf()), env: env(pairs) };
    (config::load(&sources), path)
}

fn problems(contents: &str, pairs: &[(&str, &str)]) -> (Vec<Problem>, String) {
    let (result, path) = load(contents, pairs);
    (result.expect_err("config should be refused").problems(), path)
}

fn only_problem(contents: &str, pairs: &[(&str, &str)]) -> (Problem, String) {
    let (mut all, path) = problems(contents, pairs);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    (all.remove(0), path)
}

const HUBSPOT: &str = r#"
[connectors.hubspot]
kind = "hubspot"
auth = { method = "private_app", token = { env = "HS_TOKEN" } }
"#;

const SALESFORCE: &str = r#"
[connectors.salesforce]
kind = "salesforce"
login_url = "https://acme.my.salesforce.com"
auth = { method = "client_credentials", client_id = "id", client_secret = { env = "SF_SECRET" } }
"#;

const SECRETS: &[(&str, &str)] = &[("HS_TOKEN", "pat-na1-secret"), ("SF_SECRET", "sf-secret")];

#[test]
fn the_built_in_defaults_alone_are_a_valid_config() {
    let settings = config::load(&ConfigSources::default()).unwrap();
    assert_eq!(settings.admin.listen.to_string(), "127.0.0.1:8080");
    assert!(settings.database.migrate_on_start);
}

#[test]
fn every_key_in_the_default_file_is_commented() {
    let mut previous_is_comment = false;
    for line in config::DEFAULT_TOML.lines().map(str::trim) {
        let is_key = !line.starts_with('#') && !line.starts_with('[') && line.contains('=');
        assert!(!is_key || previous_is_comment, "key without a comment: {line}");
        previous_is_comment = line.starts_with('#');
    }
}

/// `# key = value`: a key of a commented-out example block.
fn is_commented_key(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("# ") else { return false };
    rest.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty()
            && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    })
}

#[test]
fn every_key_of_the_commented_out_examples_in_the_default_file_is_explained() {
    let mut previous = "";
    for line in config::DEFAULT_TOML.lines().map(str::trim) {
        if is_commented_key(line) {
            assert!(previous.starts_with("# #"), "example key without a comment: {line}");
        }
        previous = line;
    }
}

#[test]
fn the_default_file_documents_every_key_of_a_sync_block() {
    let (_, sync_example) =
        config::DEFAULT_TOML.split_once("# [[sync]]").expect("a [[sync]] example");
    let sources = ConfigSources {
        file: Some("config/example.toml".into()),
        env: env(&[("HUBSPOT_TOKEN", "pat-na1-x"), ("SF_CLIENT_SECRET", "s")]),
    };
    let settings = config::load(&sources).expect("example config is valid");
    let mut keys = std::collections::BTreeSet::new();
    collect_keys(&serde_json::to_value(&settings.sync).unwrap(), &mut keys);
    assert!(keys.contains("engagements") && keys.contains("hubspot_type_id"), "{keys:?}");
    let documented = |key: &&String| {
        sync_example.contains(&format!("{key} = "))
            || sync_example.contains(&format!("[[sync.{key}]]"))
    };
    let missing: Vec<_> = keys.iter().filter(|key| !documented(key)).collect();
    assert!(missing.is_empty(), "[[sync]] keys the default file does not document: {missing:?}");
}

fn collect_keys(value: &serde_json::Value, keys: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                keys.insert(key.clone());
                collect_keys(inner, keys);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_keys(item, keys)),
        _ => {}
    }
}

#[test]
fn the_example_config_parses_with_its_secrets_from_the_environment() {
    let sources = ConfigSources {
        file: Some("config/example.toml".into()),
        env: env(&[("HUBSPOT_TOKEN", "pat-na1-x"), ("SF_CLIENT_SECRET", "s")]),
    };
    let settings = config::load(&sources).expect("example config is valid");
    let pairs: Vec<_> = settings
        .sync
        .iter()
        .map(|r| (r.name.as_str(), r.hubspot_object.as_str(), r.external_object.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("contacts", "contacts", "Contact"),
            ("companies", "companies", "Account"),
            ("deals", "deals", "Opportunity")
        ]
    );
    let kinds: Vec<_> = settings.connectors.values().map(|c| c.kind()).collect();
    assert_eq!(kinds, ["hubspot", "salesforce"], "HubSpot on one side, Salesforce on the other");
}

#[test]
fn an_out_of_range_rate_limit_names_the_key_the_problem_and_the_file() {
    let contents = format!("{HUBSPOT}\n[connectors.hubspot.rate_limit]\nburst_per_10s = 0\n");
    let (problem, path) = only_problem(&contents, SECRETS);
    assert_eq!(
        problem.to_string(),
        format!(
            "connectors.hubspot.rate_limit.burst_per_10s: must be 1..=250, got 0 (from {path})"
        )
    );
}

#[test]
fn a_missing_config_file_is_refused_with_its_path() {
    let sources = ConfigSources { file: Some("/nonexistent/hubsync.toml".into()), env: env(&[]) };
    let err = config::load(&sources).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/hubsync.toml"), "{err}");
}

#[test]
fn a_malformed_file_is_refused_with_its_path_and_position() {
    let (result, path) = load("[database\nurl = 1", &[]);
    let message = result.unwrap_err().to_string();
    assert!(message.contains(&path) && message.contains("line 1"), "{message}");
}

#[test]
fn an_unknown_key_is_refused_so_typos_do_not_pass_silently() {
    let (problem, path) = only_problem("[database]\nmax_conections = 5\n", &[]);
    assert!(problem.message.contains("unknown field `max_conections`"), "{problem}");
    assert_eq!(problem.origin.as_deref(), Some(path.as_str()));
}

#[test]
fn a_wrong_type_from_the_environment_names_the_variable() {
    let (problem, _) = only_problem("", &[("HUBSYNC__DATABASE__MAX_CONNECTIONS", "many")]);
    assert_eq!(problem.key, "database.max_connections");
    let origin = problem.origin.unwrap();
    assert_eq!(origin, "environment variable HUBSYNC__DATABASE__MAX_CONNECTIONS");
}

#[test]
fn a_bad_duration_and_a_bad_address_are_explained() {
    let (problem, _) = only_problem("[database]\nlock_timeout = \"soon\"\n", &[]);
    assert!(problem.to_string().contains("`soon` is not a duration"), "{problem}");
    let (problem, _) = only_problem("[admin]\nlisten = \"localhost\"\n", &[]);
    assert!(problem.to_string().contains("`localhost` is not an address"), "{problem}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let contents = "[database]\nurl = \"mysql://x\"\nmax_connections = 500\n\
                    [shutdown]\ngrace_period = \"0s\"\n";
    let (all, _) = problems(contents, &[]);
    let keys: Vec<_> = all.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["database.url", "database.max_connections", "shutdown.grace_period"]);
}

#[test]
fn the_environment_overrides_the_file_and_database_url_wins_over_both() {
    let contents =
        "[admin]\nlisten = \"127.0.0.1:9000\"\n[database]\nurl = \"postgres://file/db\"\n";
    let pairs = [
        ("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:9100"),
        ("HUBSYNC__DATABASE__URL", "postgres://env/db"),
        ("DATABASE_URL", "postgres://winner/db"),
    ];
    let settings = load(contents, &pairs).0.unwrap();
    assert_eq!(settings.admin.listen.to_string(), "127.0.0.1:9100");
    assert_eq!(settings.database.url, "postgres://winner/db");
}

#[test]
fn a_secret_written_into_a_config_file_is_refused() {
    let contents = "[connectors.hubspot]\nkind = \"hubspot\"\n\
                    auth = { method = \"private_app\", token = \"pat-na1-inline\" }\n";
    let (problem, path) = only_problem(contents, &[]);
    assert_eq!(problem.key, "connectors.hubspot.auth.token");
    assert!(problem.message.contains("may not be written into a config file"), "{problem}");
    assert_eq!(problem.origin.as_deref(), Some(path.as_str()));
    assert!(!problem.to_string().contains("pat-na1-inline"));
}

#[test]
fn a_secret_may_come_literally_from_the_environment() {
    let contents = "[connectors.hubspot]\nkind = \"hubspot\"\nauth = { method = \"private_app\", token = { env = \"UNUSED\" } }\n";
    let pairs = [("HUBSYNC__CONNECTORS__HUBSPOT__AUTH__TOKEN", "pat-from-env")];
    let settings = load(contents, &pairs).0.unwrap();
    let rendered = config::render_redacted(&settings);
    assert!(rendered.contains("token = \"[redacted]\"") && !rendered.contains("pat-from-env"));
}

#[test]
fn a_secret_from_an_unset_variable_or_a_missing_file_is_refused() {
    let (problem, _) = only_problem(HUBSPOT, &[]);
    assert!(problem.message.contains("environment variable HS_TOKEN is not set"), "{problem}");
    let contents = HUBSPOT.replace("{ env = \"HS_TOKEN\" }", "{ file = \"/nonexistent/token\" }");
    let (problem, _) = only_problem(&contents, &[]);
    assert!(problem.message.contains("cannot read secret file /nonexistent/token"), "{problem}");
}

#[test]
fn a_secret_read_from_a_file_is_used_and_never_printed() {
    let secret = file("pat-na1-from-file\n");
    let contents = HUBSPOT.replace(
        "{ env = \"HS_TOKEN\" }",
        &format!("{{ file = \"{}\" }}", secret.path().display()),
    );
    let settings = load(&contents, &[]).0.unwrap();
    let hubsync::config::ConnectorSettings::Hubspot(hs) = &settings.connectors["hubspot"] else {
        panic!("hubspot connector");
    };
    let hubsync::config::HubspotAuth::PrivateApp { token } = &hs.auth else { panic!("token") };
    assert_eq!(secrecy::ExposeSecret::expose_secret(token.value()), "pat-na1-from-file");
    assert!(!config::render_redacted(&settings).contains("pat-na1-from-file"));
    assert!(!format!("{settings:?}").contains("pat-na1-from-file"));
}

#[test]
fn a_database_password_is_redacted_when_printed() {
    let pairs = [("DATABASE_URL", "postgres://hubsync:hunter2@db:5432/hubsync")];
    let settings = load("", &pairs).0.unwrap();
    let rendered = config::render_redacted(&settings);
    assert!(!rendered.contains("hunter2"), "{rendered}");
    assert!(rendered.contains("%5Bredacted%5D") || rendered.contains("[redacted]"), "{rendered}");
}

#[test]
fn connector_checks_name_each_bad_value() {
    let contents = format!(
        "{HUBSPOT}path_version = \"v3.1\"\naccount_timezone = \"Mars/Olympus\"\n{SALESFORCE}\
         api_version = \"v41.0\"\ndaily_budget_fraction = 1.5\n"
    );
    let (all, _) = problems(&contents, SECRETS);
    let shown: Vec<String> = all.iter().map(|p| format!("{}: {}", p.key, p.message)).collect();
    let expected = [
        "connectors.hubspot.path_version: must be like `v3` or `2026-03`, got `v3.1`",
        "connectors.hubspot.account_timezone: `Mars/Olympus` is not an IANA time zone name",
        "connectors.salesforce.api_version: must be v42.0 or newer (sObject collections)",
        "connectors.salesforce.daily_budget_fraction: must be in (0, 1], got 1.5",
    ];
    assert_eq!(shown, expected);
}

#[test]
fn salesforce_spends_eighty_percent_of_the_daily_allocation_unless_told_otherwise() {
    let settings = load(SALESFORCE, SECRETS).0.unwrap();
    let hubsync::config::ConnectorSettings::Salesforce(sf) = &settings.connectors["salesforce"]
    else {
        panic!("salesforce connector");
    };
    assert_eq!(sf.daily_budget_fraction, 0.8);
    let half = format!("{SALESFORCE}daily_budget_fraction = 0.5\n");
    let settings = load(&half, SECRETS).0.unwrap();
    let hubsync::config::ConnectorSettings::Salesforce(sf) = &settings.connectors["salesforce"]
    else {
        panic!("salesforce connector");
    };
    assert_eq!(sf.daily_budget_fraction, 0.5);
}

#[test]
fn the_tier_sets_the_rate_limits_unless_numbers_are_given() {
    let contents =
        format!("{HUBSPOT}\n[connectors.hubspot.rate_limit]\ntier = \"starter\"\ndaily = 300000\n");
    let settings = load(&contents, SECRETS).0.unwrap();
    let hubsync::config::ConnectorSettings::Hubspot(hs) = &settings.connectors["hubspot"] else {
        panic!("hubspot connector");
    };
    assert_eq!(hs.rate_limit.effective_burst_per_10s(), 100);
    assert_eq!(hs.rate_limit.effective_daily(), 300_000);
}

#[test]
fn the_unlimited_tier_is_for_a_simulator_and_refused_against_hubspot() {
    let contents = format!("{HUBSPOT}\n[connectors.hubspot.rate_limit]\ntier = \"unlimited\"\n");
    let (problem, _) = only_problem(&contents, SECRETS);
    assert_eq!(problem.key, "connectors.hubspot.rate_limit.tier");
    assert!(problem.message.contains("base_url is HubSpot's API"), "{problem}");

    let sim = contents
        .replace("kind = \"hubspot\"", "kind = \"hubspot\"\nbase_url = \"http://127.0.0.1:4010\"");
    let settings = load(&sim, SECRETS).0.unwrap();
    let hubsync::config::ConnectorSettings::Hubspot(hs) = &settings.connectors["hubspot"] else {
        panic!("hubspot connector");
    };
    assert!(hs.rate_limit.effective_burst_per_10s() >= 1_000_000);
    assert!(hs.rate_limit.effective_search_per_second() >= 100_000);

    let numbered = sim.replace("tier = \"unlimited\"", "tier = \"unlimited\"\nburst_per_10s = 100");
    let (problem, _) = only_problem(&numbered, SECRETS);
    assert_eq!(problem.key, "connectors.hubspot.rate_limit.tier");
    assert!(problem.message.contains("takes no burst_per_10s"), "{problem}");
}

const RULE: &str = r#"
[[sync]]
name = "contacts"
hubspot_object = "contacts"
external_connector = "salesforce"
external_object = "Contact"
keys = { external_id_field = "HubSpot_Id__c" }
"#;

fn rule_problems(extra: &str) -> Vec<String> {
    let contents = format!("{HUBSPOT}{SALESFORCE}{extra}");
    let (all, _) = problems(&contents, SECRETS);
    all.iter().map(|p| format!("{}: {}", p.key, p.message)).collect()
}

#[test]
fn a_sync_block_must_name_existing_connectors_and_a_unique_key() {
    let extra = RULE
        .replace("external_connector = \"salesforce\"", "external_connector = \"sf\"")
        .replace("keys = { external_id_field = \"HubSpot_Id__c\" }", "keys = {}");
    assert_eq!(
        rule_problems(&extra),
        [
            "sync[0].external_connector: [[sync]] `contacts`: no connector is named `sf`",
            "sync[0].keys: [[sync]] `contacts`: set hubspot_unique_property, external_id_field \
             or shared, so writes can upsert by a unique key",
        ]
    );
}

#[test]
fn sync_block_names_must_be_unique() {
    let problems = rule_problems(&format!("{RULE}{RULE}"));
    assert_eq!(problems, ["sync[1].name: `contacts` names two [[sync]] blocks"]);
}

#[test]
fn field_mappings_are_checked_for_direction_duplicates_and_value_maps() {
    let extra = format!(
        "{RULE}direction = \"to_external\"\n\
         [[sync.fields]]\nhubspot = \"email\"\nexternal = \"Email\"\ndirection = \"to_hubspot\"\n\
         [[sync.fields]]\nhubspot = \"email\"\nexternal = \"Email2\"\n\
         [[sync.fields]]\nhubspot = \"stage\"\nexternal = \"Stage__c\"\n\
         transform = {{ type = \"value_map\", unmapped = \"default\", values = [{{ hubspot = \"a\", external = \"A\" }}] }}\n"
    );
    assert_eq!(
        rule_problems(&extra),
        [
            "sync[0].fields[0].direction: ToHubspot does not fit the pair's direction ToExternal",
            "sync[0].fields[1].hubspot: `email` is mapped twice",
            "sync[0].fields[2].transform.default: required when unmapped = \"default\"",
        ]
    );
}

#[test]
fn filters_and_associations_are_checked() {
    let extra = format!(
        "{RULE}[[sync.filter]]\nside = \"hubspot\"\nproperty = \"lifecyclestage\"\nop = \"in\"\n\
         [[sync.associations]]\nto = \"companies\"\nexternal_field = \"AccountId\"\n"
    );
    assert_eq!(
        rule_problems(&extra),
        [
            "sync[0].filter[0].values: In needs a non-empty `values`",
            "sync[0].associations[0].to: no [[sync]] block is named `companies`",
        ]
    );
}

#[test]
fn admin_tokens_need_unique_names_and_long_secrets() {
    let contents = "[[admin.tokens]]\nname = \"ops\"\nscope = \"operate\"\ntoken = { env = \"A\" }\n\
                    [[admin.tokens]]\nname = \"ops\"\nscope = \"read\"\ntoken = { env = \"B\" }\n";
    let (all, _) = problems(contents, &[("A", "short"), ("B", "long-enough-token-123")]);
    let shown: Vec<String> = all.iter().map(|p| format!("{}: {}", p.key, p.message)).collect();
    assert_eq!(
        shown,
        [
            "admin.tokens[0].token: must be at least 16 characters",
            "admin.tokens[1].name: `ops` names two tokens",
        ]
    );
}

#[test]
fn a_secret_from_the_environment_never_shows_in_debug_output() {
    let contents = "[connectors.hubspot]\nkind = \"hubspot\"\nauth = { method = \"private_app\", token = { env = \"UNUSED\" } }\n";
    let pairs = [("HUBSYNC__CONNECTORS__HUBSPOT__AUTH__TOKEN", "pat-literal-from-env")];
    let settings = load(contents, &pairs).0.unwrap();
    let debug = format!("{settings:?}");
    assert!(!debug.contains("pat-literal-from-env"), "{debug}");
    assert!(debug.contains("Literal([redacted])"), "{debug}");
    let source: hubsync::config::SecretSource =
        serde_json::from_value(serde_json::json!("pat-literal-from-env")).unwrap();
    assert_eq!(format!("{source:?}"), "Literal([redacted])");
}

#[test]
fn check_reports_unreadable_secrets_beside_settings_that_show_why() {
    let contents = format!(
        "{}{SALESFORCE}",
        HUBSPOT.replace("{ env = \"HS_TOKEN\" }", "{ file = \"/nonexistent/token\" }")
    );
    let file = file(&contents);
    let path = file.path().display().to_string();
    let sources = ConfigSources { file: Some(file.path().to_path_buf()), env: env(&[]) };
    let checked = config::check(&sources).expect("only secrets are missing");
    let shown: Vec<String> = checked.unavailable_secrets.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        shown,
        [
            format!(
                "connectors.hubspot.auth.token: cannot read secret file /nonexistent/token: No \
                 such file or directory (os error 2) (from {path})"
            ),
            format!(
                "connectors.salesforce.auth.client_secret: environment variable SF_SECRET is not \
                 set (from {path})"
            ),
        ]
    );
    let rendered = config::render_redacted(&checked.settings);
    assert!(rendered.contains("token = \"[redacted: file /nonexistent/token cannot be read]\""));
    assert!(rendered.contains("client_secret = \"[redacted: env SF_SECRET is not set]\""));
    let err = config::load(&sources).expect_err("load needs every secret");
    assert!(matches!(err, ConfigError::SecretsUnavailable(ref all) if all.len() == 2), "{err}");
}

/// One `check.fail` site in `config/validate.rs` (beyond those tested above): a config that
/// trips it alone, and the single problem it must produce.
struct FailCase {
    config: String,
    env: &'static [(&'static str, &'static str)],
    /// `key: message`; the origin is checked too.
    expected: &'static str,
    /// The environment variable the value came from; `None` means the config file.
    from_env: Option<&'static str>,
}

fn fails(config: impl Into<String>, expected: &'static str) -> FailCase {
    FailCase { config: config.into(), env: &[], expected, from_env: None }
}

const WEBHOOK: &str = r#"
[webhooks.hubspot]
connector = "salesforce"
public_url = "https://hubsync.example.com/webhooks/hubspot"
client_secret = { env = "SF_SECRET" }
"#;

/// A second HubSpot portal, so a sync block can name two existing connectors wrongly.
const PORTAL2: &str = r#"
[connectors.portal2]
kind = "hubspot"
auth = { method = "private_app", token = { env = "HS_TOKEN" } }
"#;

fn core_cases() -> Vec<FailCase> {
    vec![
        fails(
            "[instance]\nid = \"hubsync 1\"\n",
            "instance.id: `hubsync 1` must be 1 to 64 characters of a-z, 0-9, `_` or `-`",
        ),
        FailCase {
            env: &[("HUBSYNC__INSTANCE__ID", "replica/1")],
            from_env: Some("HUBSYNC__INSTANCE__ID"),
            ..fails(
                "",
                "instance.id: `replica/1` must be 1 to 64 characters of a-z, 0-9, `_` or `-`",
            )
        },
        fails(
            "[database]\nurl = \"postgres://hubsync:hunter2@db:port/hubsync\"\n",
            "database.url: `postgres://[redacted]@db:port/hubsync` is not a URL: invalid port \
             number",
        ),
        fails(
            "[database]\napplication_name = \"\"\n",
            "database.application_name: must be 1 to 63 characters",
        ),
        fails(
            "[writer.blast_radius]\nmax_share = 0.0\n",
            "writer.blast_radius.max_share: must be in (0, 1], got 0",
        ),
    ]
}

fn connector_cases() -> Vec<FailCase> {
    let oauth = |client_id: &str| {
        format!(
            "[connectors.hubspot]\nkind = \"hubspot\"\nauth = {{ method = \"oauth\", client_id = \
             \"{client_id}\", client_secret = {{ env = \"HS_TOKEN\" }}, refresh_token = {{ env = \
             \"HS_TOKEN\" }} }}\n"
        )
    };
    let jwt = |client_id: &str, username: &str| {
        SALESFORCE.replace(
            "auth = { method = \"client_credentials\", client_id = \"id\", client_secret = { env = \"SF_SECRET\" } }",
            &format!(
                "auth = {{ method = \"jwt_bearer\", client_id = \"{client_id}\", username = \
                 \"{username}\", private_key = {{ env = \"SF_SECRET\" }} }}"
            ),
        )
    };
    vec![
        fails(
            HUBSPOT.replace("[connectors.hubspot]", "[connectors.\"hub spot\"]"),
            "connectors.hub spot: `hub spot` must be 1 to 64 characters of a-z, 0-9, `_` or `-`",
        ),
        fails(oauth(""), "connectors.hubspot.auth.client_id: must not be empty"),
        fails(
            format!("{SALESFORCE}api_version = \"60.0\"\n"),
            "connectors.salesforce.api_version: must be like `v60.0`, got `60.0`",
        ),
        fails(
            format!("{SALESFORCE}client_name = \"hubsync prod\"\n"),
            "connectors.salesforce.client_name: `hubsync prod` must be 1 to 64 characters of \
             a-z, 0-9, `_` or `-`",
        ),
        fails(
            SALESFORCE.replace("client_id = \"id\"", "client_id = \"\""),
            "connectors.salesforce.auth.client_id: must not be empty",
        ),
        fails(
            jwt("", "integration@example.com"),
            "connectors.salesforce.auth.client_id: must not be empty",
        ),
        fails(jwt("id", ""), "connectors.salesforce.auth.username: must not be empty"),
        fails(
            format!("{HUBSPOT}{SALESFORCE}{WEBHOOK}"),
            "webhooks.hubspot.connector: no hubspot connector is named `salesforce`",
        ),
        fails(
            "[webhooks]\nlisten = \"0.0.0.0:8443\"\n",
            "webhooks.listen: is set, but no receiver ([webhooks.hubspot]) is",
        ),
        fails(
            format!(
                "[webhooks]\nlisten = \"127.0.0.1:8080\"\n{HUBSPOT}{}",
                WEBHOOK.replace("\"salesforce\"", "\"hubspot\"")
            ),
            "webhooks.listen: `127.0.0.1:8080` is admin.listen too",
        ),
        fails(
            "[http]\nmax_connections = 200000\n",
            "http.max_connections: must be 1..=100000, got 200000",
        ),
        fails(
            "[http]\nbody_read_timeout = \"10ms\"\n",
            "http.body_read_timeout: must be 100ms..=1h, got 10ms",
        ),
    ]
}

fn sync_cases() -> Vec<FailCase> {
    let rule = |replace: &str, with: &str, extra: &str| {
        format!("{HUBSPOT}{SALESFORCE}{PORTAL2}{}{extra}", RULE.replace(replace, with))
    };
    let plain = |extra: &str| rule("", "", extra);
    let field = |lines: &str| plain(&format!("[[sync.fields]]\n{lines}\n"));
    let filter = |lines: &str| {
        plain(&format!(
            "[[sync.filter]]\nside = \"hubspot\"\nproperty = \"lifecyclestage\"\n{lines}\n"
        ))
    };
    let hubspot_on = |connector: &str| {
        rule(
            "external_connector = \"salesforce\"",
            &format!("hubspot_connector = \"{connector}\"\nexternal_connector = \"portal2\""),
            "",
        )
    };
    vec![
        fails(
            hubspot_on("salesforce"),
            "sync[0].hubspot_connector: [[sync]] `contacts`: connector `salesforce` is \
             salesforce, not hubspot",
        ),
        fails(
            hubspot_on("hs2"),
            "sync[0].hubspot_connector: [[sync]] `contacts`: no connector is named `hs2`",
        ),
        fails(
            rule("external_connector = \"salesforce\"", "external_connector = \"hubspot\"", ""),
            "sync[0].external_connector: must differ from hubspot_connector",
        ),
        fails(
            rule("hubspot_object = \"contacts\"", "hubspot_object = \"\"", ""),
            "sync[0].hubspot_object: must not be empty",
        ),
        fails(
            rule("external_object = \"Contact\"", "external_object = \"\"", ""),
            "sync[0].external_object: must not be empty",
        ),
        fails(
            field("hubspot = \"\"\nexternal = \"Email\""),
            "sync[0].fields[0]: hubspot and external must both name a field",
        ),
        fails(
            plain(
                "[[sync.fields]]\nhubspot = \"email\"\nexternal = \"Email\"\n\
                 [[sync.fields]]\nhubspot = \"work_email\"\nexternal = \"Email\"\n",
            ),
            "sync[0].fields[1].external: `Email` is mapped twice",
        ),
        fails(
            field(
                "hubspot = \"stage\"\nexternal = \"Stage__c\"\ntransform = { type = \"value_map\", values = [] }",
            ),
            "sync[0].fields[0].transform.values: a value map needs at least one pair",
        ),
        fails(
            field(
                "hubspot = \"stage\"\nexternal = \"Stage__c\"\ntransform = { type = \"value_map\", \
                 unmapped = \"fail\", default = { hubspot = \"other\", external = \"Other\" }, \
                 values = [{ hubspot = \"a\", external = \"A\" }] }",
            ),
            "sync[0].fields[0].transform.default: only used when unmapped = \"default\"",
        ),
        fails(filter("op = \"eq\""), "sync[0].filter[0].value: Eq needs `value`"),
        fails(
            filter("op = \"is_set\"\nvalue = \"x\""),
            "sync[0].filter[0].value: IsSet takes no `value`",
        ),
        fails(
            filter("op = \"neq\"\nvalue = \"other\"\nvalues = [\"lead\"]"),
            "sync[0].filter[0].values: Neq takes no `values`",
        ),
    ]
}

#[test]
fn every_other_config_check_names_its_key_its_problem_and_its_origin() {
    let mut wrong = Vec::new();
    for case in [core_cases(), connector_cases(), sync_cases()].into_iter().flatten() {
        let mut pairs = SECRETS.to_vec();
        pairs.extend_from_slice(case.env);
        let (result, path) = load(&case.config, &pairs);
        let origin = case.from_env.map_or(path, |var| format!("environment variable {var}"));
        let expected = [format!("{} (from {origin})", case.expected)];
        let shown: Vec<String> = match result {
            Ok(_) => vec!["accepted".into()],
            Err(err) => err.problems().iter().map(Problem::to_string).collect(),
        };
        if shown != expected {
            wrong.push(format!("expected {expected:?}\n     got {shown:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_sweep_gone_share_outside_zero_to_one_names_the_key() {
    let (problem, _) = only_problem("[ingest]\nsweep_max_gone_share = 1.5\n", &[]);
    assert_eq!(problem.key, "ingest.sweep_max_gone_share");
    assert!(problem.message.contains("must be in (0, 1]"), "{problem}");
    let (loaded, _) = load("", &[]);
    let settings = loaded.unwrap();
    assert_eq!(settings.ingest.sweep_max_gone_share, 0.05, "the documented default");
    assert_eq!(settings.ingest.sweep_min_gone_records, 10);
}

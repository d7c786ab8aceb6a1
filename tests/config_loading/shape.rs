//! Config whose shape is wrong (a required key missing, an unknown enum value) and secrets
//! that are present but empty: each message names the key, the problem and the file.

use super::{HUBSPOT, SALESFORCE, SECRETS, file, only_problem};

/// `key: message (from path)`, the one line start-up prints for the config `contents`.
fn shown(contents: &str, pairs: &[(&str, &str)]) -> String {
    let (problem, path) = only_problem(contents, pairs);
    problem.to_string().replace(&path, "<file>")
}

#[test]
fn a_connector_without_auth_names_the_missing_key_and_the_file() {
    let contents = "[connectors.hubspot]\nkind = \"hubspot\"\n";
    assert_eq!(
        shown(contents, SECRETS),
        "connectors.hubspot.auth: required, but not set (from <file>)"
    );
}

#[test]
fn a_salesforce_connector_without_login_url_names_the_missing_key_and_the_file() {
    let contents = SALESFORCE.replace("login_url = \"https://acme.my.salesforce.com\"\n", "");
    assert_eq!(
        shown(&contents, SECRETS),
        "connectors.salesforce.login_url: required, but not set (from <file>)"
    );
}

#[test]
fn an_unknown_connector_kind_names_the_key_the_value_and_the_choices() {
    let contents = HUBSPOT.replace("kind = \"hubspot\"", "kind = \"zoho\"");
    assert_eq!(
        shown(&contents, SECRETS),
        "connectors.hubspot.kind: unknown variant `zoho`, expected `hubspot` or `salesforce` \
         (from <file>)"
    );
}

#[test]
fn an_unknown_auth_method_names_the_key_the_value_and_the_choices() {
    let contents = HUBSPOT.replace("method = \"private_app\"", "method = \"api_key\"");
    assert_eq!(
        shown(&contents, SECRETS),
        "connectors.hubspot.auth.method: unknown variant `api_key`, expected `private_app` or \
         `oauth` (from <file>)"
    );
}

#[test]
fn an_unknown_rate_limit_tier_names_the_key_the_value_and_the_choices() {
    let contents = format!("{HUBSPOT}\n[connectors.hubspot.rate_limit]\ntier = \"gold\"\n");
    assert_eq!(
        shown(&contents, SECRETS),
        "connectors.hubspot.rate_limit.tier: unknown variant `gold`, expected one of `free`, \
         `starter`, `professional`, `enterprise`, `unlimited` (from <file>)"
    );
}

#[test]
fn an_unknown_tier_from_the_environment_names_the_variable() {
    let pairs = [SECRETS, &[("HUBSYNC__CONNECTORS__HUBSPOT__RATE_LIMIT__TIER", "gold")]].concat();
    assert_eq!(
        shown(HUBSPOT, &pairs),
        "connectors.hubspot.rate_limit.tier: unknown variant `gold`, expected one of `free`, \
         `starter`, `professional`, `enterprise`, `unlimited` (from environment variable \
         HUBSYNC__CONNECTORS__HUBSPOT__RATE_LIMIT__TIER)"
    );
}

#[test]
fn a_secret_variable_that_is_set_but_empty_is_refused_as_empty() {
    let pairs = [("HS_TOKEN", "")];
    assert_eq!(
        shown(HUBSPOT, &pairs),
        "connectors.hubspot.auth.token: environment variable HS_TOKEN is set but empty (from \
         <file>)"
    );
}

#[test]
fn an_empty_secret_file_is_refused_with_its_path() {
    let secret = file("\n");
    let secret_path = secret.path().display().to_string();
    let contents =
        HUBSPOT.replace("{ env = \"HS_TOKEN\" }", &format!("{{ file = \"{secret_path}\" }}"));
    assert_eq!(
        shown(&contents, &[]),
        format!("connectors.hubspot.auth.token: secret file {secret_path} is empty (from <file>)")
    );
}

#[test]
fn an_auth_table_without_its_method_names_the_missing_key() {
    let contents = HUBSPOT.replace("method = \"private_app\", ", "");
    assert_eq!(
        shown(&contents, SECRETS),
        "connectors.hubspot.auth.method: required, but not set (from <file>)"
    );
}

#[test]
fn a_misspelt_key_inside_an_auth_table_is_named_where_it_is() {
    let contents = HUBSPOT.replace("token = {", "tokn = {");
    assert_eq!(
        shown(&contents, SECRETS),
        "connectors.hubspot.auth: unknown field `tokn`, expected `token` (from <file>)"
    );
}

#[test]
fn a_wrong_type_inside_a_connector_names_its_full_key() {
    let contents =
        format!("{HUBSPOT}\n[connectors.hubspot.rate_limit]\nburst_per_10s = \"many\"\n");
    assert_eq!(
        shown(&contents, SECRETS),
        "connectors.hubspot.rate_limit.burst_per_10s: expected an integer, got string \
         \"many\" (from <file>)"
    );
    let contents = format!("{SALESFORCE}request_timeout = \"soon\"\n");
    assert!(
        shown(&contents, SECRETS)
            .starts_with("connectors.salesforce.request_timeout: `soon` is not a duration"),
        "{}",
        shown(&contents, SECRETS)
    );
}

#[test]
fn an_unknown_transform_type_and_a_sync_block_without_its_object_name_their_keys() {
    let rule = "[[sync]]\nname = \"contacts\"\nexternal_connector = \"salesforce\"\n\
                external_object = \"Contact\"\n";
    assert_eq!(shown(rule, SECRETS), "sync[0].hubspot_object: required, but not set (from <file>)");
    let contents = format!(
        "{rule}hubspot_object = \"contacts\"\n[[sync.fields]]\nhubspot = \"a\"\nexternal = \"A\"\n\
         transform = {{ type = \"uppercase\" }}\n"
    );
    assert_eq!(
        shown(&contents, SECRETS),
        "sync[0].fields[0].transform.type: unknown variant `uppercase`, expected one of \
         `value_map`, `owner`, `number`, `bool`, `date`, `datetime`, `multi_select`, `constant` \
         (from <file>)"
    );
}

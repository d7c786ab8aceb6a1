//! Settings for a test: the built-in defaults, a config file, and environment overrides.

use std::collections::HashMap;

use hubsync::config::{self, ConfigSources, Settings};

/// Short intervals so a syncing daemon's tests run in seconds.
pub const FAST: [(&str, &str); 4] = [
    ("HUBSYNC__INGEST__POLL_INTERVAL", "200ms"),
    ("HUBSYNC__JOURNAL__POLL_INTERVAL", "100ms"),
    ("HUBSYNC__WRITER__FILL_WAIT", "50ms"),
    ("HUBSYNC__RECONCILER__VALIDATE_SCHEMAS", "true"),
];

/// [`FAST`] followed by `extra`, which wins where both set a key.
pub fn fast<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut settings = FAST.to_vec();
    settings.extend_from_slice(extra);
    settings
}

/// Settings for a test: the built-in defaults, this database, admin on port 0, fast retries.
pub fn test_settings(database_url: &str, extra: &[(&str, &str)]) -> Settings {
    test_settings_with_file(database_url, None, extra)
}

/// Like [`test_settings`], with a config file layered in (written to a temp file).
pub fn test_settings_with_file(
    database_url: &str,
    file: Option<&str>,
    extra: &[(&str, &str)],
) -> Settings {
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0"),
        ("HUBSYNC__DATABASE__STARTUP_RETRY_DELAY", "100ms"),
        ("HUBSYNC__DATABASE__STARTUP_ATTEMPTS", "600"),
        ("HUBSYNC__DATABASE__ACQUIRE_TIMEOUT", "1s"),
        ("HUBSYNC__SHUTDOWN__GRACE_PERIOD", "2s"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let written = file.map(|contents| {
        let mut temp = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::io::Write::write_all(&mut temp, contents.as_bytes()).unwrap();
        temp
    });
    let file = written.as_ref().map(|temp| temp.path().to_path_buf());
    config::load(&ConfigSources { file, env }).expect("test settings are valid")
}

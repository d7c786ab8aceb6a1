//! Configuration: built-in defaults, then the `--config` file, then `HUBSYNC__…` environment
//! variables, parsed once into typed, validated [`Settings`].

mod connector;
mod duration;
mod enum_names;
mod error;
mod secret;
mod settings;
mod socket_addr;
mod sync;
mod tagged;
mod validate;

use std::collections::HashMap;
use std::path::PathBuf;

use ::config::{Config, Environment, File, FileFormat};

pub use connector::*;
pub use error::{ConfigError, Problem};
pub use secret::{Secret, SecretSource};
pub use settings::*;
pub use sync::*;

/// The built-in defaults: every key, each one commented. Shipped inside the binary.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// The origin `config` gives values from environment variables.
pub(crate) const ENV_ORIGIN: &str = "the environment";

/// What the configuration is read from. Tests pass their own environment rather than
/// mutating the process's.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub file: Option<PathBuf>,
    pub env: HashMap<String, String>,
}

impl ConfigSources {
    /// The `--config` file, if any, and the process environment.
    pub fn from_process(file: Option<PathBuf>) -> Self {
        ConfigSources { file, env: std::env::vars().collect() }
    }
}

/// Loads, parses and validates the configuration, and reads every secret. Every problem
/// found is reported at once.
pub fn load(sources: &ConfigSources) -> Result<Settings, ConfigError> {
    let checked = check(sources)?;
    if checked.unavailable_secrets.is_empty() {
        Ok(checked.settings)
    } else {
        Err(ConfigError::SecretsUnavailable(checked.unavailable_secrets))
    }
}

/// Valid settings whose secrets may not all be readable here: what `check-config` prints.
#[derive(Debug)]
pub struct Checked {
    pub settings: Settings,
    /// Secrets whose variable is unset or whose file is missing or empty. Such settings are
    /// fit to print, not to run with.
    pub unavailable_secrets: Vec<Problem>,
}

/// Like [`load`], but a secret that cannot be read here is reported beside the settings
/// rather than refused, so the config can be checked without its secrets.
pub fn check(sources: &ConfigSources) -> Result<Checked, ConfigError> {
    let layers = build_layers(sources)?;
    let origins =
        validate::Origins { layers: &layers, env: &sources.env, file: sources.file.as_deref() };
    let mut settings: Settings = layers.clone().try_deserialize().map_err(|err| {
        let mut problem = problem_from(err);
        if problem.origin.is_none() {
            problem.origin = origins.of(&problem.key);
        }
        ConfigError::Invalid(vec![problem])
    })?;
    let unavailable_secrets = validate::validate(&mut settings, &origins)?;
    Ok(Checked { settings, unavailable_secrets })
}

/// Renders settings as TOML with every secret shown as `[redacted]`, or as
/// `[redacted: env HUBSPOT_TOKEN is not set]` when it could not be read.
pub fn render_redacted(settings: &Settings) -> String {
    toml::to_string_pretty(settings).unwrap_or_else(|err| format!("# cannot render: {err}\n"))
}

fn build_layers(sources: &ConfigSources) -> Result<Config, ConfigError> {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
    if let Some(path) = &sources.file {
        check_readable(path)?;
        builder = builder.add_source(File::from(path.clone()).format(FileFormat::Toml));
    }
    let environment = Environment::with_prefix("HUBSYNC")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .source(Some(prefixed(&sources.env)));
    builder = builder.add_source(environment);
    if let Some(url) = sources.env.get("DATABASE_URL").filter(|url| !url.is_empty()) {
        builder = builder.set_override("database.url", url.clone()).expect("static key");
    }
    builder.build().map_err(|err| match err {
        ::config::ConfigError::FileParse { uri, cause } => ConfigError::Parse {
            path: match (uri, &sources.file) {
                (Some(_), Some(file)) => file.display().to_string(),
                _ => "built-in defaults".into(),
            },
            message: cause.to_string(),
        },
        other => ConfigError::Invalid(vec![problem_from(other)]),
    })
}

fn check_readable(path: &PathBuf) -> Result<(), ConfigError> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|source| ConfigError::ReadFile { path: path.display().to_string(), source })
}

/// Only `HUBSYNC__…` variables reach the environment layer.
fn prefixed(env: &HashMap<String, String>) -> HashMap<String, String> {
    env.iter()
        .filter(|(key, _)| key.starts_with("HUBSYNC__"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The key and message of an error from `config` or from serde inside it. A key is whole
/// even for a problem found inside a tagged table (see [`tagged`]).
fn problem_from(err: ::config::ConfigError) -> Problem {
    use ::config::ConfigError as E;
    let (key, message) = match err {
        E::Type { unexpected, expected, key, .. } => {
            (key.unwrap_or_default(), format!("expected {expected}, got {unexpected}"))
        }
        E::At { error, key, .. } => {
            let inner = problem_from(*error);
            (join_keys(key.as_deref().unwrap_or_default(), &inner.key), inner.message)
        }
        E::NotFound(key) => (key, "required, but not set".into()),
        E::Message(text) => match tagged::unmark(&text) {
            Some((key, message)) => (key.to_string(), message.to_string()),
            None => (String::new(), enum_names::explain(&text).unwrap_or(text)),
        },
        other => (String::new(), other.to_string()),
    };
    Problem { key: dot_after_indexes(&key), message, origin: None }
}

fn join_keys(outer: &str, inner: &str) -> String {
    match (outer, inner) {
        (outer, "") => outer.to_string(),
        ("", inner) => inner.to_string(),
        (outer, inner) if inner.starts_with('[') => format!("{outer}{inner}"),
        (outer, inner) => format!("{outer}.{inner}"),
    }
}

/// `config` writes a field of an array item as `sync[0]name`; the rest of hubsync, and
/// users, write `sync[0].name`.
fn dot_after_indexes(key: &str) -> String {
    let mut fixed = String::with_capacity(key.len() + 2);
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        fixed.push(c);
        if c == ']' && chars.peek().is_some_and(|next| !matches!(next, '.' | '[')) {
            fixed.push('.');
        }
    }
    fixed
}

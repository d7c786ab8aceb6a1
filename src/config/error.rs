//! Configuration errors: every problem names its key, what was wrong, and where it came from.

use std::fmt;

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key, e.g. `connectors.hubspot.rate_limit.burst_per_10s`.
    pub key: String,
    /// What was wrong with the value, e.g. `must be 1..=250, got 0`.
    pub message: String,
    /// Where the value came from: a file path, `the environment`, or the built-in defaults.
    pub origin: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.key, self.message)?;
        }
        if let Some(origin) = &self.origin {
            write!(f, " (from {origin})")?;
        }
        Ok(())
    }
}

/// The configuration could not be loaded. Start-up stops with this message.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    ReadFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid configuration:\n{}", list(.0))]
    Invalid(Vec<Problem>),
    /// The config is valid, but secrets it names cannot be read here.
    #[error("secrets are not available, so hubsync cannot start:\n{}", list(.0))]
    SecretsUnavailable(Vec<Problem>),
}

impl ConfigError {
    /// The individual problems, for tests and for `check-config --json` style callers.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            ConfigError::Invalid(problems) | ConfigError::SecretsUnavailable(problems) => {
                problems.clone()
            }
            other => vec![Problem { key: String::new(), message: other.to_string(), origin: None }],
        }
    }
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
}

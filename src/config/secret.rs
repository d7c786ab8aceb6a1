//! Secrets in config: read from an environment variable or a file, held in `secrecy` types,
//! and printed only as `[redacted]`.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

/// Where a secret is read from. A file on disk may only name a source, never hold the
/// value itself; a literal is accepted only from the environment layer.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub enum SecretSource {
    Env {
        env: String,
    },
    File {
        file: PathBuf,
    },
    /// A literal value, e.g. from `HUBSYNC__CONNECTORS__HUBSPOT__AUTH__TOKEN`.
    Literal(#[serde(deserialize_with = "scalar_as_string")] String),
}

/// Names the variable or the file, never a literal's value.
impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env { env } => f.debug_struct("Env").field("env", env).finish(),
            SecretSource::File { file } => f.debug_struct("File").field("file", file).finish(),
            SecretSource::Literal(_) => f.write_str("Literal([redacted])"),
        }
    }
}

/// The environment layer turns digit-only values into numbers; a secret stays text.
fn scalar_as_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Integer(i64),
        Float(f64),
        Flag(bool),
    }
    Ok(match Scalar::deserialize(deserializer)? {
        Scalar::Text(text) => text,
        Scalar::Integer(n) => n.to_string(),
        Scalar::Float(x) => x.to_string(),
        Scalar::Flag(b) => b.to_string(),
    })
}

/// A configured secret: its source, and its value once resolved by config loading.
#[derive(Clone, Deserialize)]
#[serde(from = "SecretSource")]
pub struct Secret {
    source: SecretSource,
    value: Option<SecretString>,
    /// Why the value could not be read here, e.g. `env HUBSPOT_TOKEN is not set`.
    unavailable: Option<String>,
}

impl From<SecretSource> for Secret {
    fn from(source: SecretSource) -> Self {
        Secret { source, value: None, unavailable: None }
    }
}

/// Shows where the secret comes from and whether it was read, never its value.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.value.is_some() { "[redacted]" } else { "[unresolved]" };
        f.debug_struct("Secret").field("source", &self.source).field("value", &value).finish()
    }
}

/// `[redacted]`, or `[redacted: env HUBSPOT_TOKEN is not set]` when the value is not here.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (&self.value, &self.unavailable) {
            (None, Some(why)) => serializer.serialize_str(&format!("[redacted: {why}]")),
            _ => serializer.serialize_str("[redacted]"),
        }
    }
}

/// Why a secret has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SecretProblem {
    /// The source is well formed but holds nothing here: an unset variable, a missing,
    /// unreadable or empty file. `check-config` still prints the config; `run` refuses.
    Unavailable(String),
    /// The configuration itself is wrong, e.g. a literal written into a file.
    Invalid(String),
}

impl Secret {
    /// A secret with a known value, for settings built in code (tests, the demo).
    pub fn from_value(value: impl Into<String>) -> Self {
        let value: String = value.into();
        Secret {
            source: SecretSource::Literal(String::new()),
            value: Some(SecretString::from(value)),
            unavailable: None,
        }
    }

    /// The secret's value. Settings produced by [`crate::config::load`] always have it.
    pub fn value(&self) -> &SecretString {
        self.value.as_ref().expect("secret resolved during config loading")
    }

    /// The value, if config loading has resolved it.
    pub(super) fn value_if_resolved(&self) -> Option<&str> {
        use secrecy::ExposeSecret;
        self.value.as_ref().map(|v| v.expose_secret())
    }

    /// Reads the value from its source. `origin` is where the setting was written, used to
    /// refuse secrets written literally into a config file.
    pub(super) fn resolve(
        &mut self,
        env: &HashMap<String, String>,
        origin: Option<&str>,
    ) -> Result<(), SecretProblem> {
        let read = match &self.source {
            SecretSource::Env { env: name } => read_secret_env(env, name),
            SecretSource::File { file } => read_secret_file(file),
            SecretSource::Literal(value) => {
                if origin != Some(super::ENV_ORIGIN) && self.value.is_none() {
                    return Err(SecretProblem::Invalid(
                        "secrets may not be written into a config file; use \
                         { env = \"VAR\" } or { file = \"/path\" }"
                            .into(),
                    ));
                }
                Ok(value.clone())
            }
        };
        match read {
            Ok(value) => {
                self.value = Some(SecretString::from(value));
                Ok(())
            }
            Err((label, message)) => {
                self.unavailable = Some(label);
                Err(SecretProblem::Unavailable(message))
            }
        }
    }
}

/// The value, or a short label for the rendered config and the full problem message.
type Read = Result<String, (String, String)>;

fn read_secret_env(env: &HashMap<String, String>, name: &str) -> Read {
    match env.get(name) {
        Some(value) if !value.is_empty() => Ok(value.clone()),
        Some(_) => Err((
            format!("env {name} is empty"),
            format!("environment variable {name} is set but empty"),
        )),
        None => Err((
            format!("env {name} is not set"),
            format!("environment variable {name} is not set"),
        )),
    }
}

fn read_secret_file(path: &PathBuf) -> Read {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|err| {
        (format!("file {shown} cannot be read"), format!("cannot read secret file {shown}: {err}"))
    })?;
    let trimmed = text.trim_end_matches(['\n', '\r']).to_string();
    if trimmed.is_empty() {
        return Err((format!("file {shown} is empty"), format!("secret file {shown} is empty")));
    }
    Ok(trimmed)
}

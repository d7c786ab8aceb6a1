//! Secrets in config: read from an environment variable or a file, held in `secrecy` types,
//! and printed only as `[redacted]`.

use std::collections::HashMap;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

/// Where a secret is read from. A file on disk may only name a source, never hold the
/// value itself; a literal is accepted only from the environment layer.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "SecretSource")]
pub struct Secret {
    source: SecretSource,
    value: Option<SecretString>,
}

impl From<SecretSource> for Secret {
    fn from(source: SecretSource) -> Self {
        Secret { source, value: None }
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

impl Secret {
    /// A secret with a known value, for settings built in code (tests, the demo).
    pub fn from_value(value: impl Into<String>) -> Self {
        let value: String = value.into();
        Secret {
            source: SecretSource::Literal(String::new()),
            value: Some(SecretString::from(value)),
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
    ) -> Result<(), String> {
        let value = match &self.source {
            SecretSource::Env { env: name } => env
                .get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| format!("environment variable {name} is not set or is empty"))?,
            SecretSource::File { file } => read_secret_file(file)?,
            SecretSource::Literal(value) => {
                if origin != Some(super::ENV_ORIGIN) && self.value.is_none() {
                    return Err("secrets may not be written into a config file; use \
                                { env = \"VAR\" } or { file = \"/path\" }"
                        .into());
                }
                value.clone()
            }
        };
        self.value = Some(SecretString::from(value));
        Ok(())
    }
}

fn read_secret_file(path: &PathBuf) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read secret file {}: {err}", path.display()))?;
    let trimmed = text.trim_end_matches(['\n', '\r']).to_string();
    if trimmed.is_empty() {
        return Err(format!("secret file {} is empty", path.display()));
    }
    Ok(trimmed)
}

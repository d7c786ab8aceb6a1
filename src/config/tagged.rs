//! Tables whose variant is named by a tag (`kind`, `method`, `type`), read so that a problem
//! inside one still names its full key.
//!
//! serde reads an internally tagged enum by buffering its table first, and a problem found in
//! that buffer has lost its key: it is reported at `connectors.hubspot` rather than at
//! `connectors.hubspot.rate_limit.tier`. Here the table is buffered as a `config` value
//! instead and read again by `config`'s own deserializer, which tracks keys. The key found
//! inside travels out in the error text, marked, and [`super::problem_from`] joins it back.

use ::config::{Map, Value, ValueKind};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// Brackets a key relative to the tagged table at the start of an error's text.
const KEY_MARK: char = '\u{1f}';

/// An externally tagged enum mirroring an internally tagged config table.
pub(super) trait TaggedBy: DeserializeOwned {
    /// The key naming the variant, e.g. `method`.
    const TAG: &'static str;
    /// The variants' names as written in config, for the message about an unknown one.
    const VARIANTS: &'static [&'static str];
}

/// `T` read from a table whose [`TaggedBy::TAG`] names the variant; the rest of the table
/// holds the variant's fields.
pub(super) struct Tagged<T>(pub T);

impl<'de, T: TaggedBy> Deserialize<'de> for Tagged<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = match Value::deserialize(deserializer)?.kind {
            ValueKind::Table(table) => table,
            _ => return Err(D::Error::custom(format!("expected a table with `{}`", T::TAG))),
        };
        let external = external_form::<T>(table).map_err(D::Error::custom)?;
        external.try_deserialize().map(Tagged).map_err(|err| {
            let problem = super::problem_from(err);
            D::Error::custom(mark(&problem.key, &problem.message))
        })
    }
}

/// `{ method = "oauth", client_id = … }` as `{ oauth = { client_id = … } }`, or the marked
/// problem with the tag.
fn external_form<T: TaggedBy>(mut table: Map<String, Value>) -> Result<Value, String> {
    let Some(tag) = table.remove(T::TAG) else {
        return Err(mark(T::TAG, "required, but not set"));
    };
    let variant = match &tag.kind {
        ValueKind::String(variant) if T::VARIANTS.contains(&variant.as_str()) => variant.clone(),
        ValueKind::String(other) => {
            let unknown = serde::de::value::Error::unknown_variant(other, T::VARIANTS);
            return Err(mark(T::TAG, &unknown.to_string()));
        }
        _ => return Err(mark(T::TAG, &format!("expected a string, got {tag}"))),
    };
    let fields = Value::new(None, ValueKind::Table(table));
    Ok(Value::new(None, ValueKind::Table(Map::from_iter([(variant, fields)]))))
}

fn mark(key: &str, message: &str) -> String {
    format!("{KEY_MARK}{key}{KEY_MARK}{message}")
}

/// The key and message of an error text made by [`mark`].
pub(super) fn unmark(text: &str) -> Option<(&str, &str)> {
    text.strip_prefix(KEY_MARK)?.split_once(KEY_MARK)
}

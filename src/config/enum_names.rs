//! The names each plain config enum accepts, so a value it does not know is refused with
//! the list, rather than `config`'s `enum HubspotTier does not have variant constructor gold`.

use serde::de::{self, Deserialize, Error as _, Visitor};

use super::connector::HubspotTier;
use super::settings::TokenScope;
use super::sync::{
    ConflictPolicy, DeletePolicy, Direction, NaturalKey, PredicateOp, Side, UnmappedPolicy,
};

/// `unknown variant `gold`, expected one of …` for `config`'s message about enum `name`,
/// or `None` when the message is another one.
pub(super) fn explain(message: &str) -> Option<String> {
    let rest = message.strip_prefix("enum ")?;
    let (name, value) = rest.split_once(" does not have variant constructor ")?;
    let names = known().into_iter().find(|(known, _)| *known == name).map(|(_, names)| names);
    Some(match names {
        Some(names) => de::value::Error::unknown_variant(value, names).to_string(),
        None => format!("unknown variant `{value}`"),
    })
}

fn known() -> [(&'static str, &'static [&'static str]); 9] {
    [
        names_of::<HubspotTier>(),
        names_of::<TokenScope>(),
        names_of::<ConflictPolicy>(),
        names_of::<DeletePolicy>(),
        names_of::<Direction>(),
        names_of::<NaturalKey>(),
        names_of::<PredicateOp>(),
        names_of::<Side>(),
        names_of::<UnmappedPolicy>(),
    ]
}

/// The enum's name and its variants' names, as its derived `Deserialize` declares them.
fn names_of<'de, T: Deserialize<'de>>() -> (&'static str, &'static [&'static str]) {
    let mut probe = Probe::default();
    let _ = T::deserialize(&mut probe);
    (probe.name, probe.variants)
}

/// A deserializer that only notes what `deserialize_enum` is asked for.
#[derive(Default)]
struct Probe {
    name: &'static str,
    variants: &'static [&'static str],
}

impl<'de> de::Deserializer<'de> for &mut Probe {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not an enum"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.name = name;
        self.variants = variants;
        Err(de::Error::custom("probed"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

//! The reference parse of a token's claims and header: a JSON object into a [`Payload`], refusing
//! a repeated member name, which parsers resolve differently (first or last wins) and attackers
//! use to smuggle a second `alg` or `exp` past one of them.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::map::Entry;
use serde_json::Value;

use crate::claims::Payload;

/// How a repeated member name is reported.
pub(crate) const DUPLICATE: &str = "duplicate member";

/// A JSON object without repeated members.
pub(crate) struct UniqueMap(pub(crate) Payload);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = UniqueMap;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueMap, A::Error> {
                // One search of the map per member: the entry both finds a repeated member and
                // is where a new one goes.
                let mut map = Payload::new();
                while let Some(key) = access.next_key::<String>()? {
                    match map.entry(key) {
                        Entry::Occupied(member) => {
                            let name: String = member.key().chars().take(64).collect();
                            return Err(de::Error::custom(format_args!("{DUPLICATE} {name:?}")));
                        }
                        Entry::Vacant(member) => {
                            member.insert(access.next_value::<Value>()?);
                        }
                    }
                }
                Ok(UniqueMap(map))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_member_is_named_in_at_most_64_characters() {
        let error = |json: &str| {
            serde_json::from_str::<UniqueMap>(json)
                .err()
                .map(|e| e.to_string())
        };
        assert!(error(r#"{"exp": 1, "exp": 2}"#)
            .unwrap()
            .starts_with(r#"duplicate member "exp""#));
        assert!(error(r#"{"exp": 1, "e\u0078p": 2}"#)
            .unwrap()
            .starts_with(r#"duplicate member "exp""#));
        let long = "x".repeat(100);
        let named = error(&format!(r#"{{"{long}": 1, "{long}": 2}}"#)).unwrap();
        assert!(named.starts_with(&format!("duplicate member \"{}\"", "x".repeat(64))));
        assert_eq!(
            error(r#"{"a": {"b": 1, "b": 2}}"#),
            None,
            "nested objects are Values"
        );
    }
}

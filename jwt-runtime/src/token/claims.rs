//! [`TokenClaims`]: a token's claims as their JSON text, checked once and read member by member.
//!
//! The checks of a request read a handful of claims (`exp`, `nbf`, `iat`, `iss`, `aud`, the
//! identity claim, a few more on some routes). Parsing the whole object into a [`Payload`] would
//! allocate a string for every member's name and string value, and free them all at the end of
//! the request, for claims nothing reads. Instead the JSON is checked once exactly as a
//! [`Payload`] parse checks it (the same tokens are refused, with the same messages), indexed by
//! member, and a member is parsed into a [`Value`] the first time it is read. The whole
//! [`Payload`] is built only when something asks for it: `get_jwt()`, a callback that takes the
//! payload, an error response that carries it, the inspector.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use smallvec::SmallVec;

use crate::claims::Payload;

/// How a repeated member name is reported (the claims' and the header's).
pub(crate) const DUPLICATE: &str = "duplicate member";

/// The error for a repeated member `name` (its first 64 characters).
pub(crate) fn repeated<E: de::Error>(name: &str) -> E {
    let name: String = name.chars().take(64).collect();
    E::custom(format_args!("{DUPLICATE} {name:?}"))
}

/// A token's claims: a JSON object without repeated members, each member parsed when first read.
pub(crate) struct TokenClaims {
    json: Box<[u8]>,
    members: SmallVec<[Member; 8]>,
    payload: OnceLock<Arc<Payload>>,
}

struct Member {
    name: Name,
    value: Range<usize>,
    parsed: OnceLock<Value>,
}

/// A member's name: where it is in the JSON, or decoded when it has escapes.
enum Name {
    InJson(Range<usize>),
    Unescaped(Box<str>),
}

impl TokenClaims {
    /// Checks `json` as a [`Payload`] parse does (a JSON object, every value parseable, no
    /// member repeated), then indexes its members.
    pub(crate) fn parse(json: &[u8]) -> Result<TokenClaims, serde_json::Error> {
        serde_json::from_slice::<CheckedObject>(json)?;
        let json: Box<[u8]> = json.into();
        let mut reader = serde_json::Deserializer::from_slice(&json);
        let members = Index { json: &json }.deserialize(&mut reader)?;
        reader.end()?;
        Ok(TokenClaims {
            json,
            members,
            payload: OnceLock::new(),
        })
    }

    /// Claims that are a payload already (a decode callback's): read from it.
    pub(crate) fn from_payload(payload: Payload) -> TokenClaims {
        TokenClaims {
            json: Box::default(),
            members: SmallVec::new(),
            payload: OnceLock::from(Arc::new(payload)),
        }
    }

    fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|member| match &member.name {
            Name::InJson(span) => &self.json[span.clone()] == name.as_bytes(),
            Name::Unescaped(decoded) => **decoded == *name,
        })
    }

    /// The claim `name`, parsed the first time it is read (or read from the payload, once it
    /// is built).
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        if let Some(payload) = self.payload.get() {
            return payload.get(name);
        }
        let member = self.member(name)?;
        Some(member.parsed.get_or_init(|| {
            // Checked by `parse`: every member's value parses.
            serde_json::from_slice(&self.json[member.value.clone()]).unwrap_or(Value::Null)
        }))
    }

    /// Whether the claims have a member `name`.
    pub(crate) fn contains_key(&self, name: &str) -> bool {
        match self.payload.get() {
            Some(payload) => payload.contains_key(name),
            None => self.member(name).is_some(),
        }
    }

    /// Whether the claim `name` is present and a string, without parsing it.
    pub(crate) fn is_string(&self, name: &str) -> Option<bool> {
        if let Some(payload) = self.payload.get() {
            return payload.get(name).map(Value::is_string);
        }
        self.member(name)
            .map(|member| self.json.get(member.value.start) == Some(&b'"'))
    }

    /// The whole claims object, built the first time it is asked for.
    pub(crate) fn payload(&self) -> &Arc<Payload> {
        self.payload.get_or_init(|| {
            // Checked by `parse`: the JSON is an object whose values all parse.
            Arc::new(serde_json::from_slice(&self.json).unwrap_or_default())
        })
    }

    /// The claims object, owned.
    pub(crate) fn to_payload(&self) -> Payload {
        Payload::clone(self.payload())
    }
}

#[cfg(test)]
impl TokenClaims {
    /// The claims of a JSON object, through [`parse`](TokenClaims::parse) (for tests).
    pub(crate) fn of(value: Value) -> TokenClaims {
        TokenClaims::parse(&serde_json::to_vec(&value).expect("JSON")).expect("a JSON object")
    }
}

impl fmt::Debug for TokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload.get() {
            Some(payload) => f.debug_tuple("TokenClaims").field(payload).finish(),
            None => f
                .debug_tuple("TokenClaims")
                .field(&String::from_utf8_lossy(&self.json))
                .finish(),
        }
    }
}

impl PartialEq for TokenClaims {
    fn eq(&self, other: &TokenClaims) -> bool {
        self.payload() == other.payload()
    }
}

/// A member name, borrowed from the JSON when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(name)))
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(name.to_owned())))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The check pass: the JSON read as a [`Payload`] parse reads it (an object, at most 128 levels
/// deep, numbers in range, strings' escapes valid, no member repeated), keeping nothing.
struct CheckedObject;

impl<'de> Deserialize<'de> for CheckedObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = CheckedObject;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<CheckedObject, A::Error> {
                let mut names = Names::default();
                while let Some(Key(name)) = access.next_key::<Key<'de>>()? {
                    if let Err(name) = names.insert(name) {
                        return Err(repeated(&name));
                    }
                    access.next_value::<AnyValue>()?;
                }
                Ok(CheckedObject)
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// The member names seen so far: a list while short, a set beyond, so that a token of many tiny
/// members costs no quadratic search.
#[derive(Default)]
struct Names<'de> {
    list: SmallVec<[Cow<'de, str>; 16]>,
    set: std::collections::HashSet<Cow<'de, str>>,
}

impl<'de> Names<'de> {
    /// Adds `name`, or gives it back when it was already there.
    fn insert(&mut self, name: Cow<'de, str>) -> Result<(), Cow<'de, str>> {
        if self.set.is_empty() {
            if self.list.contains(&name) {
                return Err(name);
            }
            if self.list.len() < 16 {
                self.list.push(name);
                return Ok(());
            }
            self.set.extend(self.list.drain(..));
        }
        if self.set.contains(&name) {
            return Err(name);
        }
        self.set.insert(name);
        Ok(())
    }
}

/// Any JSON value, read and dropped (as [`Value`] would read it, without building it).
struct AnyValue;

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyValueVisitor)
    }
}

struct AnyValueVisitor;

impl<'de> Visitor<'de> for AnyValueVisitor {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_i64<E>(self, _: i64) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_u64<E>(self, _: u64) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_f64<E>(self, _: f64) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_str<E>(self, _: &str) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_unit<E>(self) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<AnyValue, A::Error> {
        while access.next_element::<AnyValue>()?.is_some() {}
        Ok(AnyValue)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<AnyValue, A::Error> {
        while access.next_entry::<AnyValue, AnyValue>()?.is_some() {}
        Ok(AnyValue)
    }
}

/// The index pass: each member's name and value as spans of `json` (already checked).
struct Index<'j> {
    json: &'j [u8],
}

impl Index<'_> {
    /// Where `part` (borrowed from the JSON being read) lies in it.
    fn span<E: de::Error>(&self, part: &str) -> Result<Range<usize>, E> {
        let start = (part.as_ptr() as usize).wrapping_sub(self.json.as_ptr() as usize);
        let end = start.wrapping_add(part.len());
        if start <= end && end <= self.json.len() {
            Ok(start..end)
        } else {
            Err(E::custom("a member outside the claims"))
        }
    }
}

impl<'de> DeserializeSeed<'de> for Index<'_> {
    type Value = SmallVec<[Member; 8]>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Index<'_> {
    type Value = SmallVec<[Member; 8]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut members = SmallVec::new();
        while let Some(Key(name)) = access.next_key::<Key<'de>>()? {
            let name = match name {
                Cow::Borrowed(name) => Name::InJson(self.span(name)?),
                Cow::Owned(name) => Name::Unescaped(name.into_boxed_str()),
            };
            let value = self.span(access.next_value::<&RawValue>()?.get())?;
            members.push(Member {
                name,
                value,
                parsed: OnceLock::new(),
            });
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(json: &str) -> Result<TokenClaims, String> {
        TokenClaims::parse(json.as_bytes()).map_err(|error| error.to_string())
    }

    #[test]
    fn members_are_read_as_the_payload_holds_them() {
        let json = r#" {"sub":"42", "exp": 1700000000, "n\u0061me": "A\u00e9", "user": {"id": [1, 2.5, null, true]}, "e": {}} "#;
        let claims = parsed(json).unwrap();
        let payload: Payload = serde_json::from_str(json).unwrap();
        for (name, value) in &payload {
            assert_eq!(claims.get(name), Some(value), "{name}");
            assert!(claims.contains_key(name));
        }
        assert_eq!(claims.get("name"), Some(&json!("Aé")));
        assert_eq!(claims.get("missing"), None);
        assert_eq!(claims.is_string("sub"), Some(true));
        assert_eq!(claims.is_string("exp"), Some(false));
        assert_eq!(claims.is_string("missing"), None);
        assert_eq!(**claims.payload(), payload);
        assert_eq!(claims.to_payload(), payload);
    }

    #[test]
    fn what_a_payload_parse_refuses_is_refused_with_its_message() {
        for json in [
            "[1]",
            "\"text\"",
            "{\"a\": 1",
            "{\"a\": 1} x",
            "{\"a\": 1e400}",
            "{\"a\": [1, -1e999]}",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": \"\\x\"}",
            &format!("{{\"a\": {}{}}}", "[".repeat(128), "]".repeat(128)),
        ] {
            let expected = serde_json::from_str::<Payload>(json).unwrap_err();
            let error = TokenClaims::parse(json.as_bytes()).unwrap_err();
            // Not an object: a data error (whose wording names the visitor); else the same text.
            assert_eq!(error.classify(), expected.classify(), "{json}");
            if !expected.is_data() {
                assert_eq!(error.to_string(), expected.to_string(), "{json}");
            }
        }
        let deep_enough = format!("{{\"a\": {}{}}}", "[".repeat(126), "]".repeat(126));
        assert!(serde_json::from_str::<Payload>(&deep_enough).is_ok());
        assert!(parsed(&deep_enough).is_ok());
    }

    #[test]
    fn a_repeated_member_is_refused_however_many_members() {
        assert!(parsed(r#"{"exp": 1, "exp": 2}"#)
            .unwrap_err()
            .starts_with(r#"duplicate member "exp""#));
        assert!(parsed(r#"{"exp": 1, "e\u0078p": 2}"#)
            .unwrap_err()
            .starts_with(r#"duplicate member "exp""#));
        for count in [15, 16, 17, 40] {
            let members: Vec<String> = (0..count).map(|i| format!("\"m{i}\": {i}")).collect();
            let unique = format!("{{{}}}", members.join(","));
            let claims = parsed(&unique).unwrap();
            assert_eq!(
                claims.get(&format!("m{}", count - 1)),
                Some(&json!(count - 1))
            );
            let repeated_last = format!("{{{}, \"m{}\": 0}}", members.join(","), count - 1);
            let error = parsed(&repeated_last).unwrap_err();
            assert!(
                error.starts_with(&format!("duplicate member \"m{}\"", count - 1)),
                "{error}"
            );
        }
        let long = "x".repeat(100);
        let error = parsed(&format!(r#"{{"{long}": 1, "{long}": 2}}"#)).unwrap_err();
        assert!(error.starts_with(&format!("duplicate member \"{}\"", "x".repeat(64))));
    }

    #[test]
    fn claims_from_a_payload_keep_it() {
        let payload = json!({"sub": "7", "n": 1}).as_object().cloned().unwrap();
        let claims = TokenClaims::from_payload(payload.clone());
        assert_eq!(claims.get("sub"), Some(&json!("7")));
        assert_eq!(**claims.payload(), payload);
        assert_eq!(claims, parsed(r#"{"n": 1, "sub": "7"}"#).unwrap());
    }
}

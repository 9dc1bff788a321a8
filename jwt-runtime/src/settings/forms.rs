//! How settings are written in Rocket's configuration and the environment: the serde forms that
//! [`Settings`](super::Settings) names in its `#[serde(with = ..)]` attributes, for the types whose
//! written form is not serde's own.
//!
//! Every form also serializes, because the builder's settings are the lowest layer of the
//! configuration: what is serialized here deserializes back to the same value.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::de::{self, Deserializer, SeqAccess, Unexpected, Visitor};
use serde::ser::Serializer;
use serde::Deserialize;

use super::{
    algorithm_from_name, KeyMaterial, Location, Secret, DEFAULT_AUTH_URL_RULE,
    DEFAULT_REFRESH_URL_RULE,
};

/// A duration in seconds: `10`, `0.5`, or the same decimal number in a string (`"0.25"`, up to
/// nanoseconds). Serialized as an integer when whole, else as a decimal string (exactly).
pub(super) mod seconds {
    use super::*;

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        if duration.subsec_nanos() == 0 {
            serializer.serialize_u64(duration.as_secs())
        } else {
            serializer.serialize_str(&format!(
                "{}.{:09}",
                duration.as_secs(),
                duration.subsec_nanos()
            ))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(SecondsVisitor)
    }
}

/// An optional [`seconds`] value; absent means none.
pub(super) mod optional_seconds {
    use super::*;

    pub fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => seconds::serialize(duration, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Seconds(#[serde(with = "seconds")] Duration);
        Ok(Option::<Seconds>::deserialize(deserializer)?.map(|Seconds(duration)| duration))
    }
}

/// A token lifetime: [`seconds`], or `false` for none (zero: tokens are issued without `exp`),
/// as Flask-JWT-Extended's `JWT_ACCESS_TOKEN_EXPIRES = False`.
pub(super) mod lifetime {
    use super::*;

    pub use super::seconds::serialize;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(LifetimeVisitor)
    }
}

/// An optional [`lifetime`]; absent means none.
pub(super) fn optional_lifetime<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    lifetime::deserialize(deserializer).map(Some)
}

struct LifetimeVisitor;

impl<'de> Visitor<'de> for LifetimeVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of seconds, such as 900, or false for no expiry")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Duration, E> {
        if value {
            Err(E::invalid_value(Unexpected::Bool(true), &self))
        } else {
            Ok(Duration::ZERO)
        }
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Duration, E> {
        SecondsVisitor.visit_u64(value)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Duration, E> {
        SecondsVisitor.visit_i64(value)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Duration, E> {
        SecondsVisitor.visit_f64(value)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Duration, E> {
        SecondsVisitor.visit_str(value)
    }
}

struct SecondsVisitor;

impl<'de> Visitor<'de> for SecondsVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of seconds, such as 10 or 0.5")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Duration, E> {
        u64::try_from(value)
            .map(Duration::from_secs)
            .map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Duration, E> {
        Duration::try_from_secs_f64(value)
            .map_err(|_| E::invalid_value(Unexpected::Float(value), &self))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Duration, E> {
        decimal_seconds(value).ok_or_else(|| E::invalid_value(Unexpected::Str(value), &self))
    }
}

/// `"12"`, `"0.5"`, `"1.000000001"`: digits, then optionally a dot and 1 to 9 digits.
fn decimal_seconds(text: &str) -> Option<Duration> {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) if digits(fraction) && fraction.len() <= 9 => (whole, fraction),
        Some(_) => return None,
        None => (text, ""),
    };
    if !digits(whole) {
        return None;
    }
    let nanos = format!("{fraction:0<9}").parse().ok()?;
    Some(Duration::new(whole.parse().ok()?, nanos))
}

/// The secret: a string, or an integer taken as its decimal text (`secret_key = 123456` in TOML).
/// A value of another type is refused without showing it.
pub(super) mod secret {
    use super::*;

    pub fn serialize<S: Serializer>(
        secret: &Option<Secret>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(secret) => serializer.serialize_str(secret.expose()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Secret>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            Text(String),
            Integer(i64),
            Unsigned(u64),
        }
        let scalar = Option::<Scalar>::deserialize(deserializer).map_err(|_| {
            de::Error::custom("`secret_key` must be a string (its value is not shown)")
        })?;
        Ok(scalar.map(|scalar| {
            Secret::new(match scalar {
                Scalar::Text(text) => text,
                Scalar::Integer(n) => n.to_string(),
                Scalar::Unsigned(n) => n.to_string(),
            })
        }))
    }
}

/// A key: PEM or JWK text (the form is recognised by [`KeyMaterial::detect`]), or DER as an array
/// of bytes. A value of another type is refused without showing it.
pub(super) mod key_material {
    use super::*;

    pub fn serialize<S: Serializer>(
        key: &Option<KeyMaterial>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match key {
            Some(KeyMaterial::Pem(text) | KeyMaterial::Jwk(text)) => serializer.serialize_str(text),
            Some(KeyMaterial::Der(bytes)) => serializer.serialize_bytes(bytes),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<KeyMaterial>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Bytes(Vec<u8>),
        }
        let written = Option::<Written>::deserialize(deserializer).map_err(|_| {
            de::Error::custom(
                "a key must be PEM or JWK text, or DER as an array of bytes (its value is not \
                 shown)",
            )
        })?;
        Ok(written.map(|written| match written {
            Written::Text(text) => KeyMaterial::detect(text.into_bytes()),
            Written::Bytes(bytes) => KeyMaterial::Der(bytes),
        }))
    }
}

/// One algorithm name as PyJWT spells it (`HS256`, `RS256`, `EdDSA`, ...).
pub(super) fn algorithm<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Algorithm, D::Error> {
    let name = String::deserialize(deserializer)?;
    algorithm_from_name(&name).map_err(de::Error::custom)
}

/// Algorithm names: a list, or one name alone.
pub(crate) fn algorithms<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Algorithm>, D::Error> {
    names(deserializer)?
        .iter()
        .map(|name| algorithm_from_name(name).map_err(de::Error::custom))
        .collect()
}

/// [`names`], optional (absent is none).
pub(super) fn optional_names<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    /// A list of [`names`], so that `Option` can read it (and `null` as none).
    #[derive(Deserialize)]
    struct Names(#[serde(deserialize_with = "names")] Vec<String>);
    Ok(Option::<Names>::deserialize(deserializer)?.map(|Names(names)| names))
}

/// [`algorithms`], optional (absent is none).
pub(super) fn optional_algorithms<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Algorithm>>, D::Error> {
    algorithms(deserializer).map(Some)
}

/// A list of strings, or one string alone (a list of one). A string is never split: commas
/// and spaces are part of the value.
pub(crate) fn names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Names;

    impl<'de> Visitor<'de> for Names {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of strings, or one string")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Vec<String>, E> {
            Ok(vec![value.to_owned()])
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut names = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(name) = seq.next_element()? {
                names.push(name);
            }
            Ok(names)
        }
    }

    deserializer.deserialize_any(Names)
}

/// Token locations (`headers`, `cookies`, `query_string`, `json`): a list, or one name alone.
pub(super) fn locations<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Location>, D::Error> {
    names(deserializer)?
        .iter()
        .map(|name| {
            Location::ALL
                .into_iter()
                .find(|location| location.as_str() == name)
                .ok_or_else(|| {
                    de::Error::custom(format!(
                        "unknown token location {name:?}; expected some of \"headers\", \
                         \"cookies\", \"query_string\", \"json\""
                    ))
                })
        })
        .collect()
}

/// A resource's path; `false` or `""` disables it, `true` is the default path.
struct Rule(&'static str);

impl<'de> Visitor<'de> for Rule {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a route path such as \"{}\", or false", self.0)
    }

    fn visit_bool<E: de::Error>(self, enabled: bool) -> Result<Option<String>, E> {
        Ok(enabled.then(|| self.0.to_owned()))
    }

    fn visit_str<E: de::Error>(self, path: &str) -> Result<Option<String>, E> {
        Ok((!path.is_empty()).then(|| path.to_owned()))
    }
}

pub(in crate::settings) fn serialize_rule<S: Serializer>(
    rule: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match rule {
        Some(rule) => serializer.serialize_str(rule),
        None => serializer.serialize_bool(false),
    }
}

/// The auth resource's path ([`Rule`], `true` being `/auth`).
pub(super) mod url_rule {
    use super::*;

    pub(in crate::settings) use super::serialize_rule as serialize;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(Rule(DEFAULT_AUTH_URL_RULE))
    }
}

/// The refresh resource's path ([`Rule`], `true` being `/refresh`).
pub(super) mod refresh_rule {
    use super::*;

    pub(in crate::settings) use super::serialize_rule as serialize;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(Rule(DEFAULT_REFRESH_URL_RULE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds_are_exact() {
        assert_eq!(decimal_seconds("12"), Some(Duration::from_secs(12)));
        assert_eq!(decimal_seconds("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(decimal_seconds("1.000000001"), Some(Duration::new(1, 1)));
        for bad in [
            "",
            ".5",
            "5.",
            "1.0000000001",
            "-1",
            "+1",
            "1e3",
            "ten",
            " 1",
            "1.2.3",
        ] {
            assert_eq!(decimal_seconds(bad), None, "{bad:?}");
        }
    }
}

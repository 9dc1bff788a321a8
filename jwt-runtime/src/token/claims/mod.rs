//! [`TokenClaims`]: a token's claims as their JSON text, indexed once and read member by member.
//!
//! The checks of a request read a handful of claims (`exp`, `nbf`, `iat`, `iss`, `aud`, the
//! identity claim, a few more on some routes). Parsing the whole object into a [`Payload`] would
//! allocate a string for every member's name and string value, and free them all at the end of
//! the request, for claims nothing reads. Instead one scan indexes the members ([`index`]: each
//! value's span in the JSON, its syntax checked), and a member is parsed into a [`Value`] the
//! first time it is read. The whole [`Payload`] is built only when something asks for it:
//! `get_jwt()`, a callback that takes the payload, an error response that carries it, the
//! inspector.
//!
//! The claims accepted and refused are exactly those of the [`reference`] parse (a [`Payload`]
//! without repeated members): wherever the index pass has a doubt (a repeated member, a syntax
//! error, an escaped name, many members), the reference parse decides, and its error is the
//! answer.

mod index;
pub(crate) mod reference;

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::claims::Payload;
use index::{NameKey, Span};
use reference::UniqueMap;

/// A token's claims: a JSON object without repeated members, each member parsed when first read.
pub(crate) struct TokenClaims {
    json: Box<str>,
    /// On the heap: the claims are moved several times on their way to the verified token.
    members: Vec<Member>,
    payload: OnceLock<Arc<Payload>>,
}

struct Member {
    span: Span,
    parsed: OnceLock<Value>,
}

impl AsRef<Span> for Member {
    fn as_ref(&self) -> &Span {
        &self.span
    }
}

impl TokenClaims {
    /// The claims of `json`, a JSON object without repeated members, or the reference parse's
    /// error.
    pub(crate) fn parse(json: Vec<u8>) -> Result<TokenClaims, serde_json::Error> {
        match String::from_utf8(json) {
            // Whatever the index pass doubts, the reference parse decides (and says why it
            // refuses).
            Ok(json) => {
                TokenClaims::indexed(json).or_else(|json| TokenClaims::parse_whole(json.as_bytes()))
            }
            Err(not_utf8) => TokenClaims::parse_whole(not_utf8.as_bytes()),
        }
    }

    /// The index pass over `json`, kept as the claims' text; the text back where the reference
    /// parse must decide.
    fn indexed(json: String) -> Result<TokenClaims, String> {
        let member = |span| Member {
            span,
            parsed: OnceLock::new(),
        };
        match index::members(&json, member) {
            Some(members) => Ok(TokenClaims {
                json: json.into_boxed_str(),
                members,
                payload: OnceLock::new(),
            }),
            None => Err(json),
        }
    }

    /// The claims of `json` parsed whole at once by the reference parse: for an application that
    /// reads the payload of every token, one pass instead of the index pass and then this one.
    pub(crate) fn parse_whole(json: &[u8]) -> Result<TokenClaims, serde_json::Error> {
        Ok(TokenClaims::from_payload(
            serde_json::from_slice::<UniqueMap>(json)?.0,
        ))
    }

    /// Claims that are a payload already (a decode callback's): read from it.
    pub(crate) fn from_payload(payload: Payload) -> TokenClaims {
        TokenClaims {
            json: Box::default(),
            members: Vec::new(),
            payload: OnceLock::from(Arc::new(payload)),
        }
    }

    /// The member `name` and its value's JSON text.
    fn member(&self, name: &str) -> Option<(&Member, &str)> {
        let (json, name) = (self.json.as_bytes(), name.as_bytes());
        let key = NameKey::of(name);
        self.members
            .iter()
            .find(|member| member.span.is_named(json, name, key))
            .map(|member| (member, &self.json[member.span.value.clone()]))
    }

    /// The claim `name`, parsed the first time it is read (or read from the payload, once it
    /// is built).
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        if let Some(payload) = self.payload.get() {
            return payload.get(name);
        }
        let (member, text) = self.member(name)?;
        Some(member.parsed.get_or_init(|| value(text)))
    }

    /// The claim `name` for one look: borrowed where it is parsed already (or the payload is
    /// built), else parsed from its text and not kept. For the time claims, numbers read once
    /// per token, whose parse allocates nothing: keeping them would cost more than reading them.
    pub(crate) fn read(&self, name: &str) -> Option<Cow<'_, Value>> {
        if let Some(payload) = self.payload.get() {
            return payload.get(name).map(Cow::Borrowed);
        }
        let (member, text) = self.member(name)?;
        Some(match member.parsed.get() {
            Some(parsed) => Cow::Borrowed(parsed),
            None => Cow::Owned(value(text)),
        })
    }

    /// Whether these are a refresh token's claims (`"type": "refresh"`, Flask-JWT-Extended's);
    /// a token without `type` is an access token.
    pub(crate) fn is_refresh(&self) -> bool {
        self.get("type").and_then(Value::as_str) == Some("refresh")
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
        self.member(name).map(|(_, text)| text.starts_with('"'))
    }

    /// The whole claims object, built the first time it is asked for.
    pub(crate) fn payload(&self) -> &Arc<Payload> {
        self.payload.get_or_init(|| {
            // The index pass vouched for the JSON: an object without repeated members whose
            // values all parse.
            Arc::new(serde_json::from_str(&self.json).unwrap_or_default())
        })
    }

    /// The claims object, owned.
    pub(crate) fn to_payload(&self) -> Payload {
        Payload::clone(self.payload())
    }

    /// The claims object, without a copy where it is built already and not shared.
    pub(crate) fn into_payload(self) -> Payload {
        let _built = self.payload();
        self.payload
            .into_inner()
            .map(Arc::unwrap_or_clone)
            .unwrap_or_default()
    }
}

/// A member's value from its JSON text, which the index pass vouched for: the usual strings
/// and integers directly, anything else by serde_json.
fn value(text: &str) -> Value {
    match text.as_bytes() {
        [b'"', inner @ .., b'"'] if !inner.contains(&b'\\') => {
            Value::String(text[1..text.len() - 1].to_owned())
        }
        digits @ [b'0'..=b'9', ..] if digits.len() <= 18 => match integer(digits) {
            Some(integer) => Value::from(integer),
            None => serde_json::from_str(text).unwrap_or(Value::Null),
        },
        _ => serde_json::from_str(text).unwrap_or(Value::Null),
    }
}

/// The value of up to 18 decimal digits (no overflow), in one pass; `None` at anything else.
fn integer(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |value, &byte| {
        let digit = byte.wrapping_sub(b'0');
        (digit < 10).then(|| value * 10 + u64::from(digit))
    })
}

#[cfg(test)]
impl TokenClaims {
    /// The claims of a JSON object, through [`parse`](TokenClaims::parse) (for tests).
    pub(crate) fn of(value: Value) -> TokenClaims {
        TokenClaims::parse(serde_json::to_vec(&value).expect("JSON")).expect("a JSON object")
    }
}

impl fmt::Debug for TokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload.get() {
            Some(payload) => f.debug_tuple("TokenClaims").field(payload).finish(),
            None => f.debug_tuple("TokenClaims").field(&self.json).finish(),
        }
    }
}

#[cfg(test)]
impl PartialEq for TokenClaims {
    fn eq(&self, other: &TokenClaims) -> bool {
        self.payload() == other.payload()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(json: &str) -> Result<TokenClaims, String> {
        TokenClaims::parse(json.as_bytes().to_vec()).map_err(|error| error.to_string())
    }

    #[test]
    fn members_are_read_as_the_payload_holds_them() {
        let json = r#" {"sub":"42", "exp": 1700000000, "n\u0061me": "A\u00e9", "user": {"id": [1, 2.5, null, true]}, "e": {}} "#;
        let claims = parsed(json).unwrap();
        let payload: Payload = serde_json::from_str(json).unwrap();
        for (name, value) in &payload {
            assert_eq!(claims.read(name).as_deref(), Some(value), "{name}");
            assert_eq!(claims.get(name), Some(value), "{name}");
            assert!(claims.contains_key(name));
        }
        assert_eq!(claims.get("name"), Some(&json!("Aé")));
        assert_eq!(claims.get("missing"), None);
        assert_eq!(claims.read("missing"), None);
        assert_eq!(claims.is_string("sub"), Some(true));
        assert_eq!(claims.is_string("exp"), Some(false));
        assert_eq!(claims.is_string("missing"), None);
        assert_eq!(**claims.payload(), payload);
        assert_eq!(claims.to_payload(), payload);
        assert_eq!(claims.into_payload(), payload);
        assert_eq!(
            parsed(json).unwrap().into_payload(),
            payload,
            "not built before"
        );
    }

    #[test]
    fn a_read_borrows_what_is_kept_and_keeps_nothing() {
        let claims = parsed(r#"{"sub":"42","exp":1700000000}"#).unwrap();
        // Before the member is kept, a read parses it anew; after, it borrows the kept one.
        assert!(matches!(claims.read("exp"), Some(Cow::Owned(exp)) if exp == 1_700_000_000));
        assert!(claims
            .members
            .iter()
            .all(|member| member.parsed.get().is_none()));
        assert_eq!(claims.get("sub"), Some(&json!("42")));
        assert!(matches!(claims.read("sub"), Some(Cow::Borrowed(sub)) if sub == "42"));
        // Once the payload is built, every read borrows from it.
        let _ = claims.payload();
        assert!(matches!(claims.read("exp"), Some(Cow::Borrowed(exp)) if exp == 1_700_000_000));
        assert_eq!(claims.read("missing"), None);
    }

    /// The reference parse's answer for `json`: the payload or its error's text.
    fn reference(json: &str) -> Result<Payload, String> {
        serde_json::from_str::<UniqueMap>(json)
            .map(|map| map.0)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_index_pass_takes_the_usual_claims_and_agrees_with_the_reference() {
        for json in [
            r#"{"sub":"bench-user","iat":1700000000,"nbf":1700000000,"exp":1700000060.5,"user":{"sub":"x"}}"#,
            r#"{"aud":["a","b"],"permissions":["read:x"],"scope":"a b","n":null,"t":true,"f":false}"#,
            r#"{"neg": -12, "deep": [[[{"a": [1, {"b": "c\u00e9"}]}]]], "e": 1.5e3}"#,
            r#"{"text": "caf\u00e9 \ud83d\ude00", "n": 18446744073709551615, "m": -0, "z": 0}"#,
            r#"{"big": 123456789012345678901234567890, "f": 0.1, "s": "\"quoted\" \\ \/"}"#,
            "{}",
        ] {
            assert!(TokenClaims::indexed(json.to_owned()).is_ok(), "{json}");
            agrees_with_the_reference(json);
        }
    }

    /// Every claim, each type check and the payload of `json` are the reference parse's.
    fn agrees_with_the_reference(json: &str) {
        let claims = parsed(json).unwrap();
        let payload = reference(json).unwrap();
        for (name, value) in &payload {
            assert_eq!(claims.get(name), Some(value), "{json}: {name}");
            assert_eq!(
                claims.is_string(name),
                Some(value.is_string()),
                "{json}: {name}"
            );
        }
        assert_eq!(**claims.payload(), payload, "{json}");
    }

    #[test]
    fn what_the_index_pass_leaves_to_the_reference_is_read_the_same() {
        let many: Vec<String> = (0..100).map(|i| format!("\"m{i}\": {i}")).collect();
        for json in [
            r#"{"s\u0075b": "escaped name", "text": "caf\u00e9"}"#.to_owned(),
            format!("{{{}}}", many.join(",")),
        ] {
            assert!(TokenClaims::indexed(json.to_owned()).is_err(), "{json}");
            agrees_with_the_reference(&json);
        }
    }

    #[test]
    fn what_the_reference_refuses_is_refused_with_its_message() {
        let nested =
            |levels: usize| format!("{{\"a\": {}{}}}", "[".repeat(levels), "]".repeat(levels));
        for json in [
            "[1]".to_owned(),
            "\"text\"".to_owned(),
            "{\"a\": 1".to_owned(),
            "{\"a\": 1} x".to_owned(),
            "{\"a\": 1e400}".to_owned(),
            "{\"a\": 1, \"b\": [1, -1e999]}".to_owned(),
            format!("{{\"a\": {}}}", "9".repeat(400)),
            "{\"a\": \"\\ud800\"}".to_owned(),
            "{\"a\": {\"b\": \"\\ud800x\"}}".to_owned(),
            "{\"a\": \"\\x\"}".to_owned(),
            "{\"a\": \"\u{1}\"}".to_owned(),
            "{\"exp\": 1e999, \"exp\": 1}".to_owned(),
            nested(127),
            nested(128),
        ] {
            let expected = reference(&json).unwrap_err();
            assert_eq!(parsed(&json).unwrap_err(), expected, "{json}");
        }
        // As deep as the reference allows: indexed, and the same value.
        let deepest = nested(126);
        assert!(TokenClaims::indexed(deepest.clone()).is_ok());
        assert_eq!(
            **parsed(&deepest).unwrap().payload(),
            reference(&deepest).unwrap()
        );
    }

    #[test]
    fn doubtful_values_the_reference_accepts_are_accepted() {
        for json in [
            format!("{{\"a\": {}}}", "9".repeat(301)),
            "{\"a\": 1e300, \"b\": \"\\n\"}".to_owned(),
        ] {
            agrees_with_the_reference(&json);
        }
    }

    #[test]
    fn claims_from_a_payload_keep_it() {
        let payload = json!({"sub": "7", "n": 1}).as_object().cloned().unwrap();
        let claims = TokenClaims::from_payload(payload.clone());
        assert_eq!(claims.get("sub"), Some(&json!("7")));
        assert_eq!(**claims.payload(), payload);
        assert_eq!(claims, parsed(r#"{"n": 1, "sub": "7"}"#).unwrap());
    }

    /// Pieces of claims JSON, well-formed or not, that a generated text is made of.
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\"",
        "\"sub\"",
        "\"exp\"",
        "\"aud\"",
        "\"x\"",
        "1",
        "0",
        "-",
        ".",
        "5",
        "e",
        "E",
        "+",
        "1e400",
        "1700000000",
        "true",
        "false",
        "null",
        "\\",
        "\\u00e9",
        "\\ud800",
        "\\n",
        "\u{1}",
        "\u{e9}",
        "\"a b\"",
        "\t\n",
    ];

    /// Member values, valid and not, that generated claims are made of.
    const VALUES: &[&str] = &[
        "\"bench-user\"",
        "1700000000",
        "[\"a\", \"b\"]",
        "{\"k\": [1, 2.5]}",
        "null",
        "-3.25e2",
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "1e+",
        "-0",
        "0.0e-0",
        "\"\\ud800\"",
        "\"\\u00e9\"",
        "\"\\x\"",
        "tru",
        "nulll",
        "[1,]",
        "{\"a\":1,}",
        "[[[]]]",
        "\"a\u{1}\"",
        "1e400",
        "[1e999]",
        "-12",
        "18446744073709551616",
        "\"\\\"\"",
        "{\"a\":{\"a\":1,\"a\":2}}",
        "[\"]\"]",
        "true",
        "{\"\\ud800\": 1}",
        "{\"\\x\": [true]}",
        "[\"\\ud800\"]",
        "{\"k\" 1}",
        "[1 2]",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Mostly-valid claims with a few pieces spliced in: the index pass and the reference
        /// parse accept the same texts, with the same claims, and refuse with the same message.
        #[test]
        fn the_claims_are_the_reference_parses(
            members in proptest::collection::vec((0..4usize, 0..VALUES.len()), 0..6),
            splices in proptest::collection::vec((0..400usize, 0..PIECES.len()), 0..3),
        ) {
            let values = VALUES;
            let names = ["sub", "exp", "aud", "x"];
            let body: Vec<String> = members
                .iter()
                .map(|&(name, value)| format!("\"{}\": {}", names[name], values[value]))
                .collect();
            let mut json = format!("{{{}}}", body.join(", "));
            for &(at, piece) in &splices {
                let at = at % (json.len() + 1);
                if json.is_char_boundary(at) {
                    json.insert_str(at, PIECES[piece]);
                }
            }
            match (parsed(&json), reference(&json)) {
                (Ok(claims), Ok(payload)) => {
                    for (name, value) in &payload {
                        proptest::prop_assert_eq!(claims.get(name), Some(value));
                    }
                    proptest::prop_assert_eq!(&**claims.payload(), &payload);
                }
                (Err(ours), Err(theirs)) => proptest::prop_assert_eq!(ours, theirs),
                (ours, theirs) => proptest::prop_assert!(
                    false,
                    "{json}: ours {:?}, reference {:?}",
                    ours.map(|c| c.to_payload()),
                    theirs
                ),
            }
        }
    }
}

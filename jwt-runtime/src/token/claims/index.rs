//! The index pass over a token's claims: each member's name and value as spans of the JSON text,
//! found in one scan of its bytes. It takes only what it can vouch for (the JSON grammar, names
//! without escapes, no repeated member, values that [`Value`](serde_json::Value) parses) and gives
//! up on anything else, which the reference parse then decides. Arrays and objects have their
//! grammar checked here too; the rare values whose parse could fail (escapes, exponents,
//! hundreds of digits), anywhere in a member's value, have it read by serde_json.

use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A member of the claims object: where its name (without the quotes) and its value are.
pub(super) struct Span {
    pub(super) name: Range<usize>,
    pub(super) value: Range<usize>,
    /// The name's key, for finding the member by name.
    pub(super) key: NameKey,
}

impl Span {
    /// Whether this member's name is `name`, whose key is `key`: the keys alone decide for names
    /// of up to eight bytes, the bytes of `json` for longer ones with the same key.
    pub(super) fn is_named(&self, json: &[u8], name: &[u8], key: NameKey) -> bool {
        self.key == key && (name.len() <= NameKey::HEAD || json[self.name.clone()] == *name)
    }
}

/// A member name's first eight bytes and its length: equal for equal names, and for names of up
/// to eight bytes (every registered claim's) only for equal names. Names compared byte by byte
/// cost a call to `memcmp` per member of the same length, and the time claims all have three.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct NameKey {
    head: u64,
    len: usize,
}

impl NameKey {
    /// The bytes of a name that the key holds.
    const HEAD: usize = 8;

    pub(super) fn of(name: &[u8]) -> NameKey {
        let head = name
            .iter()
            .take(NameKey::HEAD)
            .enumerate()
            .fold(0, |head, (i, &byte)| head | u64::from(byte) << (8 * i));
        NameKey {
            head,
            len: name.len(),
        }
    }
}

/// The most members the pass takes (tokens carry a dozen or two): finding a repeated name is
/// quadratic here, so a token of many tiny members goes to the reference parse, whose map finds
/// one in logarithmic time.
const MAX_MEMBERS: usize = 64;

/// How many arrays and objects a member's value may nest: serde_json allows 128 levels, the
/// claims object itself counting as one (the pass may take less than the reference: it only
/// gives up sooner).
const MAX_DEPTH: u8 = 126;

/// The members of the JSON object `json`, each as `member` makes it of its [`Span`], or `None`
/// where the reference parse must decide.
pub(super) fn members<M: AsRef<Span>>(json: &str, member: impl Fn(Span) -> M) -> Option<Vec<M>> {
    let bytes = json.as_bytes();
    let mut members: Vec<M> = Vec::with_capacity(8);
    let mut at = after(bytes, whitespace(bytes, 0), b'{')?;
    at = whitespace(bytes, at);
    if bytes.get(at) == Some(&b'}') {
        return (whitespace(bytes, at + 1) == bytes.len()).then_some(members);
    }
    loop {
        let name = plain_string(bytes, at)?;
        let key = NameKey::of(&bytes[name.clone()]);
        let repeated = members
            .iter()
            .any(|member| member.as_ref().is_named(bytes, &bytes[name.clone()], key));
        if repeated || members.len() == MAX_MEMBERS {
            return None;
        }
        at = whitespace(bytes, after(bytes, whitespace(bytes, name.end + 1), b':')?);
        let value = value(json, at)?;
        at = whitespace(bytes, value.end);
        members.push(member(Span { name, value, key }));
        match bytes.get(at) {
            Some(b',') => at = whitespace(bytes, at + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    (whitespace(bytes, at + 1) == bytes.len()).then_some(members)
}

/// The index after JSON whitespace from `at`.
fn whitespace(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The index after `byte`, if it is at `at`.
fn after(bytes: &[u8], at: usize, byte: u8) -> Option<usize> {
    (bytes.get(at) == Some(&byte)).then_some(at + 1)
}

/// The content of the string at `at` (its closing quote at the range's end), if it has no
/// escapes and no control characters.
fn plain_string(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    let start = after(bytes, at, b'"')?;
    let length = bytes[start..]
        .iter()
        .position(|&b| !PLAIN[usize::from(b)])?;
    let end = start + length;
    (bytes[end] == b'"').then_some(start..end)
}

/// The span of the value at `at`.
fn value(json: &str, at: usize) -> Option<Range<usize>> {
    let (end, read_by_serde) = element(json.as_bytes(), at, 0)?;
    if read_by_serde {
        let mut reader = serde_json::Deserializer::from_str(&json[at..end]);
        Within(MAX_DEPTH).deserialize(&mut reader).ok()?;
        reader.end().ok()?;
    }
    Some(at..end)
}

/// The index after the value at `at` (inside `depth` arrays and objects), its grammar checked,
/// and whether serde_json must read it to vouch for it: a string with escapes, a number with an
/// exponent or hundreds of digits, anywhere in it. `None` at a syntax error, or nested deeper
/// than [`MAX_DEPTH`].
fn element(bytes: &[u8], at: usize, depth: u8) -> Option<(usize, bool)> {
    match bytes.get(at)? {
        b'"' => string(bytes, at),
        b'-' | b'0'..=b'9' => number_end(bytes, at),
        b't' => Some((literal_end(bytes, at, b"true")?, false)),
        b'f' => Some((literal_end(bytes, at, b"false")?, false)),
        b'n' => Some((literal_end(bytes, at, b"null")?, false)),
        b'[' | b'{' => nested_end(bytes, at, depth),
        _ => None,
    }
}

/// The index after the string at `at`, and whether it has escapes (which serde_json checks).
fn string(bytes: &[u8], at: usize) -> Option<(usize, bool)> {
    match plain_string(bytes, at) {
        Some(content) => Some((content.end + 1, false)),
        None => Some((string_end(bytes, at)?, true)),
    }
}

/// The index after the array or object at `at`, as [`element`] says. Repeated names inside are
/// fine: [`Value`](serde_json::Value) keeps the last, and only the claims' own are refused.
fn nested_end(bytes: &[u8], at: usize, depth: u8) -> Option<(usize, bool)> {
    let depth = depth.checked_add(1).filter(|&depth| depth <= MAX_DEPTH)?;
    let (close, object) = match bytes[at] {
        b'[' => (b']', false),
        _ => (b'}', true),
    };
    let mut at = whitespace(bytes, at + 1);
    if bytes.get(at) == Some(&close) {
        return Some((at + 1, false));
    }
    let mut read_by_serde = false;
    loop {
        if object {
            let (end, escaped) = string(bytes, at)?;
            read_by_serde |= escaped;
            at = whitespace(bytes, after(bytes, whitespace(bytes, end), b':')?);
        }
        let (end, by_serde) = element(bytes, at, depth)?;
        read_by_serde |= by_serde;
        at = whitespace(bytes, end);
        match *bytes.get(at)? {
            b',' => at = whitespace(bytes, at + 1),
            byte if byte == close => return Some((at + 1, read_by_serde)),
            _ => return None,
        }
    }
}

/// The bytes that stand for themselves inside a JSON string: all but the quote, the backslash
/// and the control characters. One load per byte tells, where three comparisons did.
const PLAIN: [bool; 256] = {
    let mut plain = [true; 256];
    let mut byte = 0;
    while byte < 0x20 {
        plain[byte] = false;
        byte += 1;
    }
    plain[b'"' as usize] = false;
    plain[b'\\' as usize] = false;
    plain
};

/// The index after the string at `at`, escapes skipped (not checked); `None` at a control
/// character or the end of the text.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        i += bytes
            .get(i..)?
            .iter()
            .position(|&b| !PLAIN[usize::from(b)])?;
        match bytes[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _control => return None,
        }
    }
}

/// The index after the number at `at` (RFC 8259's grammar), and whether serde_json must read it
/// to know it is in range (an exponent, or hundreds of digits).
fn number_end(bytes: &[u8], at: usize) -> Option<(usize, bool)> {
    let digits = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = at + usize::from(bytes[at] == b'-');
    i = match bytes.get(i)? {
        b'0' => i + 1,
        b'1'..=b'9' => digits(i + 1),
        _ => return None,
    };
    if bytes.get(i) == Some(&b'.') {
        let fraction = digits(i + 1);
        if fraction == i + 1 {
            return None;
        }
        i = fraction;
    }
    let exponent = matches!(bytes.get(i), Some(b'e' | b'E'));
    if exponent {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let power = digits(i);
        if power == i {
            return None;
        }
        i = power;
    }
    Some((i, exponent || i - at > 300))
}

/// The index after `literal`, if it is at `at`.
fn literal_end(bytes: &[u8], at: usize, literal: &[u8]) -> Option<usize> {
    bytes[at..]
        .starts_with(literal)
        .then_some(at + literal.len())
}

/// Any JSON value, read as [`Value`](serde_json::Value) reads it (numbers in range, escapes
/// decoded) and dropped, nesting at most `.0` levels of arrays and objects.
struct Within(u8);

impl<'de> DeserializeSeed<'de> for Within {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Within {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let inner = self.inner()?;
        while access.next_element_seed(Within(inner))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let inner = self.inner()?;
        while access.next_key_seed(Within(0))?.is_some() {
            access.next_value_seed(Within(inner))?;
        }
        Ok(())
    }
}

impl Within {
    /// The levels left inside an array or object at this level.
    fn inner<E: de::Error>(self) -> Result<u8, E> {
        self.0
            .checked_sub(1)
            .ok_or_else(|| E::custom("nested too deep"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl AsRef<Span> for Span {
        fn as_ref(&self) -> &Span {
            self
        }
    }

    #[test]
    fn a_name_is_found_by_its_key_and_a_long_one_by_its_bytes_too() {
        let json = r#"{"exp":1,"ex":2,"expx":3,"permissions":4,"permissiona":5,"12345678":6}"#;
        let spans = index(json).unwrap();
        let named = |name: &str| -> Vec<&str> {
            let key = NameKey::of(name.as_bytes());
            spans
                .iter()
                .filter(|span| span.is_named(json.as_bytes(), name.as_bytes(), key))
                .map(|span| &json[span.value.clone()])
                .collect()
        };
        for (name, value) in [
            ("exp", "1"),
            ("ex", "2"),
            ("expx", "3"),
            ("permissions", "4"),
            ("permissiona", "5"),
            ("12345678", "6"),
        ] {
            assert_eq!(named(name), [value], "{name}");
        }
        for absent in [
            "",
            "e",
            "exp\0",
            "EXP",
            "permission",
            "permissionsx",
            "1234567",
        ] {
            assert!(named(absent).is_empty(), "{absent}");
        }
        assert_eq!(NameKey::of(b"ab"), NameKey::of(b"ab"));
        assert_ne!(NameKey::of(b"ab"), NameKey::of(b"ab\0"));
        assert_eq!(
            NameKey::of(b"abcdefghX"),
            NameKey::of(b"abcdefghY"),
            "the head alone"
        );
        // A repeated long name sends the object to the reference parse; two names that differ
        // only after their first eight bytes are both members.
        assert!(index(r#"{"permissions":1,"permissions":2}"#).is_none());
        assert_eq!(
            index(r#"{"permissions":1,"permissiona":2}"#).map(|s| s.len()),
            Some(2)
        );
    }

    /// The index pass's spans of `json`.
    fn index(json: &str) -> Option<Vec<Span>> {
        members(json, |span| span)
    }

    fn spans(json: &str) -> Option<Vec<(&str, &str)>> {
        let members = index(json)?;
        Some(
            members
                .iter()
                .map(|m| (&json[m.name.clone()], &json[m.value.clone()]))
                .collect(),
        )
    }

    #[test]
    fn members_are_found_with_their_values() {
        assert_eq!(
            spans(
                " {\"a\" : 1 ,\"b\":\"x y\",\"c\":[1, {\"d\": \"]\"}],\"e\":null,\"f\":-0.5e-3}\n"
            ),
            Some(vec![
                ("a", "1"),
                ("b", "\"x y\""),
                ("c", "[1, {\"d\": \"]\"}]"),
                ("e", "null"),
                ("f", "-0.5e-3")
            ])
        );
        assert_eq!(spans("{}"), Some(vec![]));
        assert_eq!(spans(" { } "), Some(vec![]));
    }

    #[test]
    fn what_it_cannot_vouch_for_is_left_to_the_reference() {
        for json in [
            "",
            "[]",
            "{",
            "{,}",
            "{\"a\":1,}",
            "{\"a\":1}x",
            "{\"a\" 1}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":1e}",
            "{\"a\":+1}",
            "{\"a\":tru}",
            "{\"a\":nul}",
            "{\"a\":1,\"a\":2}",
            "{\"\\u0061\":1}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":[1,}",
            "{\"a\":[1}",
            "{\"a\":1e400}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":{\"b\":\"\\q\"}}",
        ] {
            assert!(index(json).is_none(), "{json:?}");
        }
        let many: Vec<String> = (0..=MAX_MEMBERS).map(|i| format!("\"m{i}\":{i}")).collect();
        assert!(index(&format!("{{{}}}", many[..MAX_MEMBERS].join(","))).is_some());
        assert!(index(&format!("{{{}}}", many.join(","))).is_none());
        let nested =
            |levels: usize| format!("{{\"a\":{}{}}}", "[".repeat(levels), "]".repeat(levels));
        assert!(index(&nested(126)).is_some());
        assert!(index(&nested(127)).is_none());
    }
}

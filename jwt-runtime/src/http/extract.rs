//! Finding the token in a request: Flask-JWT's default request handler.

use crate::error::JwtError;

/// Reads the token from the value of `Authorization: <prefix> <token>`, as Flask-JWT 0.3.2 does.
///
/// - an empty or blank value: `Ok(None)` (the caller answers `Authorization Required`);
/// - a scheme other than `prefix` (compared case-insensitively): `Unsupported authorization type`;
/// - the prefix alone: `Token missing`; more than two words: `Token contains spaces`.
///
/// Words are separated as Python's `str.split()` and Rust's `str::split_whitespace` do; an ASCII
/// value (the usual case) is split a byte at a time, without decoding characters.
pub fn parse_authorization<'v>(value: &'v str, prefix: &str) -> Result<Option<&'v str>, JwtError> {
    if let Some(token) = usual_form(value, prefix) {
        return Ok(Some(token));
    }
    if value.is_ascii() {
        parse_words(AsciiWords(value), prefix)
    } else {
        parse_words(value.split_whitespace(), prefix)
    }
}

/// The usual header, `<prefix> <token>` with one space and a token of visible ASCII characters
/// (`!` to `~`), recognised in one pass without branching per byte; `None` for anything else,
/// which the general rules then read (with the same result for this form).
fn usual_form<'v>(value: &'v str, prefix: &str) -> Option<&'v str> {
    let bytes = value.as_bytes();
    let scheme = prefix.as_bytes();
    let visible = |byte: u8| (b'!'..=b'~').contains(&byte);
    if scheme.is_empty()
        || !scheme.iter().all(|&b| visible(b))
        || bytes.len() <= scheme.len() + 1
        || bytes[scheme.len()] != b' '
        || !same_ignoring_ascii_case(&bytes[..scheme.len()], scheme)
    {
        return None;
    }
    let token = &bytes[scheme.len() + 1..];
    let invisible = token
        .iter()
        .fold(0u8, |seen, &byte| seen | u8::from(!visible(byte)));
    // Splitting after the ASCII space keeps `value`'s UTF-8 boundaries.
    (invisible == 0).then(|| &value[scheme.len() + 1..])
}

/// Whether `a` and `b` are equal ignoring ASCII case, as `<[u8]>::eq_ignore_ascii_case` says,
/// with equal bytes passed at once: a header name hyper stored in lower case, or a scheme as the
/// settings spell it, differs from the configured one in a letter or two, not in every byte.
pub(crate) fn same_ignoring_ascii_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(&x, &y)| x == y || (x ^ y == 0x20 && (x | 0x20).is_ascii_lowercase()))
}

fn parse_words<'v>(
    mut parts: impl Iterator<Item = &'v str>,
    prefix: &str,
) -> Result<Option<&'v str>, JwtError> {
    let Some(scheme) = parts.next() else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case(prefix) {
        return Err(JwtError::invalid_header("Unsupported authorization type"));
    }
    let Some(token) = parts.next() else {
        return Err(JwtError::invalid_header("Token missing"));
    };
    if parts.next().is_some() {
        return Err(JwtError::invalid_header("Token contains spaces"));
    }
    Ok(Some(token))
}

/// `str::split_whitespace` over ASCII text: the same separators (space, and `\t` to `\r`, the
/// vertical tab included), found byte by byte.
struct AsciiWords<'v>(&'v str);

fn is_ascii_space(byte: u8) -> bool {
    byte == b' ' || (b'\t'..=b'\r').contains(&byte)
}

impl<'v> Iterator for AsciiWords<'v> {
    type Item = &'v str;

    fn next(&mut self) -> Option<&'v str> {
        let start = self.0.bytes().position(|b| !is_ascii_space(b))?;
        let rest = &self.0[start..];
        let end = rest.bytes().position(is_ascii_space).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        self.0 = tail;
        Some(word)
    }
}

/// 401 `Authorization Required` with the `WWW-Authenticate` challenge for `realm`.
pub fn authorization_required(scheme: &str, realm: &str) -> JwtError {
    let escaped = crate::authz::challenge::quoted(realm);
    JwtError::missing_token(JwtError::NO_TOKEN)
        .with_header("WWW-Authenticate", format!("{scheme} realm=\"{escaped}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description(value: &str) -> String {
        parse_authorization(value, "JWT")
            .unwrap_err()
            .description
            .into_owned()
    }

    #[test]
    fn flask_jwt_header_rules() {
        assert_eq!(parse_authorization("JWT abc", "JWT").unwrap(), Some("abc"));
        assert_eq!(parse_authorization("jwt abc", "JWT").unwrap(), Some("abc"));
        assert_eq!(
            parse_authorization("  JWT   abc  ", "JWT").unwrap(),
            Some("abc")
        );
        assert_eq!(parse_authorization("", "JWT").unwrap(), None);
        assert_eq!(parse_authorization(" \t ", "JWT").unwrap(), None);
        assert_eq!(description("Bearer abc"), "Unsupported authorization type");
        assert_eq!(description("Bogus xxx"), "Unsupported authorization type");
        assert_eq!(
            description("Basic am9lOnBhc3M="),
            "Unsupported authorization type"
        );
        assert_eq!(description("JWT"), "Token missing");
        assert_eq!(description("JWT "), "Token missing");
        assert_eq!(description("jwt   "), "Token missing");
        assert_eq!(description("JWT a b"), "Token contains spaces");
        assert_eq!(description("JWT a.b.c extra"), "Token contains spaces");
        assert_eq!(description("JWTabc"), "Unsupported authorization type");
        assert_eq!(
            parse_authorization("Bearer abc", "Bearer").unwrap(),
            Some("abc")
        );
        assert_eq!(
            description("\u{e9}t\u{e9} x"),
            "Unsupported authorization type"
        );
    }

    #[test]
    fn same_ignoring_ascii_case_is_eq_ignore_ascii_case() {
        // Every pair of bytes, and names of other lengths.
        for x in 0..=u8::MAX {
            for y in 0..=u8::MAX {
                assert_eq!(
                    same_ignoring_ascii_case(&[b'a', x], &[b'A', y]),
                    [b'a', x].eq_ignore_ascii_case(&[b'A', y]),
                    "{x:#04x} {y:#04x}"
                );
            }
        }
        assert!(same_ignoring_ascii_case(b"authorization", b"Authorization"));
        assert!(!same_ignoring_ascii_case(
            b"authorization",
            b"Authorisation"
        ));
        assert!(!same_ignoring_ascii_case(b"authorization", b"Authorizatio"));
        assert!(same_ignoring_ascii_case(b"", b""));
    }

    #[test]
    fn ascii_words_split_as_split_whitespace_does() {
        // Every string of up to 4 characters over an alphabet of separators and letters.
        let alphabet = [
            ' ', '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1c}', '\0', 'a', 'b',
        ];
        let mut strings = vec![String::new()];
        let mut level = vec![String::new()];
        for _ in 0..4 {
            level = level
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(level.iter().cloned());
        }
        for s in &strings {
            let ours: Vec<&str> = AsciiWords(s).collect();
            let std: Vec<&str> = s.split_whitespace().collect();
            assert_eq!(ours, std, "{s:?}");
        }
        assert!(strings.len() > 10_000);
    }

    #[test]
    fn the_usual_form_reads_as_the_general_rules_do() {
        // Every string of up to 5 pieces over prefixes, separators, token characters and
        // characters the usual form leaves to the general rules.
        let pieces = [
            "JWT", "jwt", "Bearer", " ", "  ", "\t", "\u{b}", "a.b", "x", "\u{a0}", "\u{e9}", "\0",
            "\u{7f}",
        ];
        let mut level = vec![String::new()];
        let mut checked = 0;
        for _ in 0..5 {
            level = level
                .iter()
                .flat_map(|s| pieces.iter().map(move |p| format!("{s}{p}")))
                .collect();
            for value in &level {
                for prefix in ["JWT", "Bearer"] {
                    let general = parse_words(value.split_whitespace(), prefix)
                        .map_err(|e| e.description.into_owned());
                    let ours =
                        parse_authorization(value, prefix).map_err(|e| e.description.into_owned());
                    assert_eq!(ours, general, "{value:?} with {prefix:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
        assert_eq!(usual_form("JWT a.b.c", "JWT"), Some("a.b.c"));
        assert_eq!(usual_form("JWT  a.b.c", "JWT"), None);
        assert_eq!(usual_form("JWT a b", "JWT"), None);
    }

    #[test]
    fn non_ascii_values_split_on_unicode_whitespace() {
        assert_eq!(
            parse_authorization("JWT\u{a0}abc", "JWT").unwrap(),
            Some("abc")
        );
        assert_eq!(description("JWT abc\u{2003}def"), "Token contains spaces");
    }

    #[test]
    fn challenge_quotes_the_realm() {
        let err = authorization_required("JWT", "Admin \"area\"");
        assert_eq!(err.headers[0].1, r#"JWT realm="Admin \"area\"""#);
        assert_eq!(err.status, rocket::http::Status::Unauthorized);
    }
}

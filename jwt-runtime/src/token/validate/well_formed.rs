//! Check 1, **well-formed**: three base64url segments, a JSON object header whose registered
//! parameters have their registered types, claims that are a JSON object with no repeated member
//! and a string `sub`.
//!
//! The claims are read as JSON only once the signature has proven who wrote them
//! ([`claims`], called after check 2): a forged token never gets its claims parsed. Everything
//! else — the size, the segments, their base64url, the header — is checked before.
//!
//! Header parameters this library does not implement are refused rather than ignored (RFC 8725):
//! `crit`, `b64`, `zip`, nested tokens (`cty: JWT`); and `typ` must match when one is expected.
//! Each rejection carries PyJWT's wording where Flask-JWT has one.

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use smallvec::SmallVec;

use super::Policy;
use crate::claims::Payload;
use crate::error::{Check, JwtError};
use crate::settings::Settings;
use crate::token::claims::reference::{UniqueMap, DUPLICATE};
use crate::token::claims::TokenClaims;

/// A token cut into its segments, the header decoded.
#[derive(Debug)]
pub(crate) struct Segments<'t> {
    /// `header.claims`, the signed message.
    pub(crate) message: &'t str,
    pub(crate) header: Header,
    /// The claims segment, still base64url.
    claims: &'t str,
    /// The signature segment, still base64url.
    signature: &'t str,
}

/// The decoded header, its registered parameters read with their types checked.
#[derive(Debug)]
pub(crate) struct Header {
    /// Shared with the [`HeaderMemo`], the verified-token cache and `get_jwt_header()`.
    pub(crate) fields: Arc<Payload>,
}

/// The last header segment that decoded and passed the header check, with what it decodes to.
/// The tokens of one issuer and key carry the same header segment byte for byte, so it is decoded
/// (base64url, then JSON without repeated members) and checked once instead of once per token:
/// about 3,500 instructions of a token that is not in the verified-token cache. Decoding and the
/// check are functions of the segment's text and of the rules that own the memo alone, so a hit
/// is exact; only a segment that passed is kept. One entry: a different segment replaces it.
#[derive(Debug, Default)]
pub(crate) struct HeaderMemo(RwLock<Option<(Box<str>, Arc<Payload>)>>);

impl HeaderMemo {
    /// `segment`'s decoded and checked header, from the memo or decoded and checked now (and
    /// then kept).
    fn checked(&self, rules: &Policy, segment: &str) -> Result<Arc<Payload>, JwtError> {
        if let Ok(last) = self.0.read()
            && let Some((text, fields)) = last.as_ref()
            && **text == *segment
        {
            return Ok(Arc::clone(fields));
        }
        let fields = decode_header(segment)?;
        check_header(rules, &fields)?;
        let fields = Arc::new(fields);
        if let Ok(mut last) = self.0.write() {
            *last = Some((segment.into(), Arc::clone(&fields)));
        }
        Ok(fields)
    }
}

/// A header segment: base64url, then a JSON object without repeated members.
fn decode_header(segment: &str) -> Result<Payload, JwtError> {
    let header =
        decode_segment::<[u8; 128]>(segment).ok_or_else(|| malformed("Invalid header padding"))?;
    Ok(serde_json::from_slice::<UniqueMap>(&header)
        .map_err(|e| malformed(json_error("Invalid header string", &e)))?
        .0)
}

impl Header {
    /// `alg` (checked to be a string, when present).
    pub(crate) fn alg(&self) -> Option<&str> {
        self.fields.get("alg").and_then(Value::as_str)
    }

    /// `kid` (checked to be a string, when present).
    pub(crate) fn kid(&self) -> Option<&str> {
        self.fields.get("kid").and_then(Value::as_str)
    }
}

fn malformed(description: impl Into<std::borrow::Cow<'static, str>>) -> JwtError {
    JwtError::invalid_token(Check::WellFormed, description)
}

/// The size limit, the three segments, and the header: decoded and its registered parameters
/// checked, or from the rules' memo.
pub(crate) fn segments<'t>(rules: &Policy, token: &'t str) -> Result<Segments<'t>, JwtError> {
    let limit = rules.max_token_bytes;
    if token.len() > limit {
        return Err(malformed("Token is too large").with_detail(format!(
            "{} bytes; the limit is {limit} (the max_token_bytes setting)",
            token.len()
        )));
    }
    // One pass for the dots (`memchr`'s vectorised search); slicing at an ASCII `.` is always at
    // a character boundary.
    let mut dots = memchr::memchr_iter(b'.', token.as_bytes());
    let (Some(first), Some(second)) = (dots.next(), dots.next()) else {
        return Err(malformed("Not enough segments"));
    };
    if dots.next().is_some() {
        return Err(malformed("Too many segments"));
    }
    let (message, signature) = (&token[..second], &token[second + 1..]);
    let (header, claims) = (&token[..first], &token[first + 1..second]);
    let fields = rules.header_memo.checked(rules, header)?;
    Ok(Segments {
        message,
        header: Header { fields },
        claims,
        signature,
    })
}

/// The header's registered parameters: their JSON types, the parameters refused, `typ`.
fn check_header(rules: &Policy, fields: &Payload) -> Result<(), JwtError> {
    registered_types(fields)?;
    let unsupported = |description: &'static str| Err(malformed(description));
    if fields.contains_key("crit") {
        return unsupported("Unsupported critical header parameters (crit)");
    }
    if fields.contains_key("b64") {
        return unsupported("Unencoded payloads (b64) are not supported");
    }
    if fields.contains_key("zip") {
        return unsupported("Compressed tokens (zip) are not accepted");
    }
    if let Some(Value::String(cty)) = fields.get("cty")
        && media_type_eq(cty, "JWT")
    {
        return unsupported("Nested tokens (cty: JWT) are not accepted");
    }
    if let Some(expected) = &rules.expected_typ {
        let typ = fields.get("typ").and_then(Value::as_str);
        if !typ.is_some_and(|typ| media_type_eq(typ, expected)) {
            return Err(malformed("Invalid token type (typ)").with_detail(format!(
                "expected typ {expected:?}, received {}",
                fields.get("typ").map_or("none".into(), Value::to_string)
            )));
        }
    }
    Ok(())
}

/// The JSON type each registered header parameter must have (RFC 7515 §4.1, RFC 7797, RFC 7516).
/// A parameter of another type makes the token malformed; it is never read as absent.
fn registered_types(fields: &Payload) -> Result<(), JwtError> {
    let string_array = |value: &Value| {
        value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string))
    };
    // One pass over the header's members (a handful), not one lookup per registered name.
    for (name, value) in fields {
        let (fits, expected) = match name.as_str() {
            "alg" | "kid" | "typ" | "cty" | "jku" | "x5u" | "x5t" | "x5t#S256" | "zip" => {
                (value.is_string(), "a string")
            }
            "crit" | "x5c" => (string_array(value), "an array of strings"),
            "jwk" => (value.is_object(), "an object"),
            "b64" => (value.is_boolean(), "a boolean"),
            _ => continue,
        };
        if !fits {
            return Err(
                malformed("Invalid header: a registered parameter has the wrong type")
                    .with_detail(format!("{name} must be {expected}")),
            );
        }
    }
    Ok(())
}

/// A claims segment, decoded: on the heap, where the claims keep it (their JSON text).
pub(crate) type ClaimBytes = Vec<u8>;

/// A signature segment, decoded: inline up to 128 bytes.
pub(crate) type SignatureBytes = SmallVec<[u8; 128]>;

/// The claims and signature segments, decoded from base64url (their content is not read yet).
///
/// The claims are decoded straight into the buffer their JSON text stays in (one allocation of
/// their exact length, never copied); the signature inline up to 128 bytes (HMAC, ES256 and
/// ES384), larger ones on the heap: an RSA signature's check costs a hundred times an allocation.
pub(crate) fn decode(segments: &Segments<'_>) -> Result<(ClaimBytes, SignatureBytes), JwtError> {
    let invalid_claims = || malformed("Invalid payload padding");
    let length = decoded_len(segments.claims).ok_or_else(invalid_claims)?;
    // Zeroed by `resize`, not allocated zeroed (`vec![0; length]`, which clippy prefers): glibc's
    // `calloc` passes by its per-thread cache of freed chunks, which `malloc` takes from (about
    // 150 instructions of a token's first sight).
    #[allow(clippy::slow_vector_initialization)]
    let mut claims = Vec::with_capacity(length);
    claims.resize(length, 0);
    URL_SAFE_NO_PAD
        .decode_slice(segments.claims, &mut claims)
        .map_err(|_| invalid_claims())?;
    let signature =
        decode_segment(segments.signature).ok_or_else(|| malformed("Invalid crypto padding"))?;
    Ok((claims, signature))
}

/// `segment`, decoded from base64url without padding (inline up to `A`'s length), or `None` if
/// it is not that.
fn decode_segment<A: smallvec::Array<Item = u8>>(segment: &str) -> Option<SmallVec<A>> {
    let mut bytes = SmallVec::<A>::from_elem(0, decoded_len(segment)?);
    URL_SAFE_NO_PAD.decode_slice(segment, &mut bytes).ok()?;
    Some(bytes)
}

/// The length of base64url text of `segment`'s length once decoded (without padding, three bytes
/// per four characters and one or two for a rest of two or three), or `None` for a length no
/// such text has.
fn decoded_len(segment: &str) -> Option<usize> {
    let whole = segment.len() / 4 * 3;
    match segment.len() % 4 {
        0 => Some(whole),
        2 => Some(whole + 1),
        3 => Some(whole + 2),
        _ => None,
    }
}

/// The claims: a JSON object without repeated members, with a string `sub` if any.
/// `whole`: parsed at once into a payload (see [`Policy::whole_claims`]).
pub(crate) fn claims(bytes: ClaimBytes, whole: bool) -> Result<TokenClaims, JwtError> {
    let parsed = match whole {
        false => TokenClaims::parse(bytes),
        true => TokenClaims::parse_whole(&bytes),
    };
    let claims = parsed.map_err(|e| malformed(json_error("Invalid payload string", &e)))?;
    if claims.is_string("sub") == Some(false) {
        return Err(malformed("Invalid subject: sub must be a string"));
    }
    Ok(claims)
}

/// Whether two `typ`/`cty` media types are the same: case-insensitive, `application/` implied
/// when absent (RFC 7515 §4.1.9).
fn media_type_eq(a: &str, b: &str) -> bool {
    fn normal(media_type: &str) -> String {
        let lower = media_type.to_ascii_lowercase();
        match lower.strip_prefix("application/") {
            Some(rest) if !rest.contains('/') => rest.to_owned(),
            _ => lower,
        }
    }
    normal(a) == normal(b)
}

/// PyJWT's wording for a segment that is not a JSON object.
fn json_error(what: &str, error: &serde_json::Error) -> String {
    let text = error.to_string();
    if text.starts_with(DUPLICATE) {
        format!(
            "{what}: {}",
            text.split(" at line ").next().unwrap_or(&text)
        )
    } else if error.is_data() {
        format!("{what}: must be a json object")
    } else {
        format!("{what}: {error}")
    }
}

/// The registered claims that must be strings (RFC 7519 §4.1, RFC 8693 §4.3) in tokens from an
/// issuer, and that no other check reads: `sub`, `jti`, `client_id`, and `iss` when no issuer is
/// expected (check 4 reads it otherwise). None for the Flask-JWT profile's own tokens, which
/// keep PyJWT 1.x's answers, nor under `strict_access_tokens`, whose own check names the
/// RFC 9068 rule.
pub(crate) fn string_claims(settings: &Settings) -> &'static [&'static str] {
    let issuer_checked = settings.issuer.is_some()
        || settings.authority.is_some()
        || !settings.authorities.is_empty();
    if !settings.external_issuer() || settings.strict_access_tokens {
        &[]
    } else if issuer_checked {
        &["sub", "jti", "client_id"]
    } else {
        &["iss", "sub", "jti", "client_id"]
    }
}

/// For tokens from an issuer (`names` not empty): each claim of `names` is a string (or null,
/// which counts as absent), with PyJWT 2's messages; and the token is not bound to a key
/// (`cnf`, RFC 7800): a certificate-bound token (RFC 8705 §3) is refused, since this API cannot
/// check the binding. (A DPoP-bound one, `cnf.jkt`, is [`dpop_bound`]: the request flow checks
/// its proof on a route that takes DPoP, and refuses it elsewhere.)
pub(crate) fn registered_claim_types(names: &[&str], claims: &TokenClaims) -> Result<(), JwtError> {
    if names.is_empty() {
        return Ok(());
    }
    for &claim in names {
        let message = match claim {
            "iss" => "Issuer (iss) must be a string.",
            "sub" => "Subject must be a string",
            "jti" => "JWT ID must be a string",
            _ => "Client ID (client_id) must be a string",
        };
        if claims
            .get(claim)
            .is_some_and(|value| !value.is_string() && !value.is_null())
        {
            return Err(JwtError::invalid_token(Check::WellFormed, message)
                .with_detail(format!("{claim} must be a string (RFC 7519 section 4.1)")));
        }
    }
    if let Some(Value::Object(confirmation)) = claims.get("cnf")
        && let Some(binding) = ["x5t#S256"]
            .into_iter()
            .find(|member| confirmation.contains_key(*member))
    {
        return Err(JwtError::invalid_token(
            Check::WellFormed,
            "The token is bound to a key (cnf): it cannot be used as a bearer token",
        )
        .with_detail(format!(
            "cnf.{binding}: a certificate-bound token (RFC 8705)"
        )));
    }
    Ok(())
}

/// The refusal of a DPoP-bound token on a route that does not take DPoP: it was sent as a bearer
/// token, and its binding cannot be checked there.
pub(crate) fn bound_as_bearer() -> JwtError {
    JwtError::invalid_token(
        Check::WellFormed,
        "The token is bound to a key (cnf): it cannot be used as a bearer token",
    )
    .with_detail("cnf.jkt: a DPoP-bound token (RFC 9449) on a route that does not take DPoP")
}

/// Whether the token is bound to a DPoP key (`cnf.jkt`, RFC 9449 §6): read once when the token
/// is verified, and kept with it in the verified-token cache.
pub(crate) fn dpop_bound(claims: &TokenClaims) -> bool {
    claims
        .get("cnf")
        .is_some_and(|confirmation| confirmation.get("jkt").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn rules() -> Policy {
        Policy::new(&Settings::default(), vec![jsonwebtoken::Algorithm::HS256])
    }

    fn encoded(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_header_segment_is_decoded_once_and_only_a_checked_one_is_kept() {
        let rules = rules();
        let header_of = |token: &str| segments(&rules, token).map(|s| s.header.fields);
        let hs256 = encoded(r#"{"alg":"HS256","typ":"JWT"}"#);
        let first = header_of(&format!("{hs256}.e30.a")).unwrap();
        let second = header_of(&format!("{hs256}.eyJhIjoxfQ.b")).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(first.get("alg"), Some(&Value::from("HS256")));

        // A segment that does not decode, or decodes to a header that fails the check, fails
        // as before every time, and leaves the memo as it was.
        let error = header_of("e3!0.e30.a").unwrap_err();
        assert_eq!(error.description, "Invalid header padding");
        let repeated = format!("{}.e30.a", encoded(r#"{"alg":1,"alg":2}"#));
        let error = header_of(&repeated).unwrap_err();
        assert!(
            error.description.starts_with("Invalid header string"),
            "{error:?}"
        );
        let critical = format!("{}.e30.a", encoded(r#"{"alg":"HS256","crit":["exp"]}"#));
        for _ in 0..2 {
            let error = header_of(&critical).unwrap_err();
            assert_eq!(
                error.description,
                "Unsupported critical header parameters (crit)"
            );
        }
        let again = header_of(&format!("{hs256}.e30.c")).unwrap();
        assert!(Arc::ptr_eq(&first, &again));

        // Another segment replaces it; the same bytes decode the same either way.
        let rs256 = encoded(r#"{"alg":"RS256"}"#);
        let other = header_of(&format!("{rs256}.e30.a")).unwrap();
        assert_eq!(other.get("alg"), Some(&Value::from("RS256")));
        let back = header_of(&format!("{hs256}.e30.a")).unwrap();
        assert!(!Arc::ptr_eq(&first, &back));
        assert_eq!(first, back);
    }

    #[test]
    fn a_kept_header_is_checked_against_the_rules_that_keep_it() {
        // The memo belongs to the rules: a header that passed one configuration's `typ` check is
        // still checked by another configuration's.
        let lenient = rules();
        let settings = Settings {
            expected_typ: Some("at+jwt".into()),
            ..Settings::default()
        };
        let strict = Policy::new(&settings, vec![jsonwebtoken::Algorithm::HS256]);
        let token = format!("{}.e30.a", encoded(r#"{"alg":"HS256","typ":"JWT"}"#));
        assert!(segments(&lenient, &token).is_ok());
        for _ in 0..2 {
            let error = segments(&strict, &token).unwrap_err();
            assert_eq!(error.description, "Invalid token type (typ)");
        }
        assert!(segments(&lenient, &token).is_ok());
    }

    #[test]
    fn a_token_is_cut_at_exactly_two_dots() {
        let rules = rules();
        let header = encoded(r#"{"alg":"HS256"}"#);
        for (rest, expected) in [
            ("", Err("Not enough segments")),
            (".", Err("Not enough segments")),
            (".e30", Err("Not enough segments")),
            (".e30.", Ok(("e30", ""))),
            (".e30.sig", Ok(("e30", "sig"))),
            ("..sig", Ok(("", "sig"))),
            ("..", Ok(("", ""))),
            (".é.é", Ok(("é", "é"))),
            (".e30.sig.", Err("Too many segments")),
            ("...", Err("Too many segments")),
            (".e30.sig.more.dots", Err("Too many segments")),
        ] {
            let token = format!("{header}{rest}");
            let cut = segments(&rules, &token).map(|s| {
                assert_eq!(s.message, &token[..token.rfind('.').unwrap()]);
                (s.claims, s.signature)
            });
            assert_eq!(
                cut.map_err(|e| e.description),
                expected.map_err(Into::into),
                "{token}"
            );
        }
    }

    #[test]
    fn segments_decode_the_same_inline_and_on_the_heap() {
        let rules = rules();
        let header = encoded(r#"{"alg":"HS256"}"#);
        // Around both inline sizes (256 bytes of claims, 128 of signature), and empty.
        for length in [0, 1, 2, 3, 127, 128, 129, 255, 256, 257, 600] {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 7 % 256) as u8).collect();
            let token = format!("{header}.{}.{}", encoded(&bytes), encoded(&bytes));
            let segments = segments(&rules, &token).unwrap();
            let (claims, signature) = decode(&segments).unwrap();
            assert_eq!(
                (&claims[..], &signature[..]),
                (&bytes[..], &bytes[..]),
                "{length}"
            );
        }
        // Not base64url, or not canonical (trailing bits set), either way.
        for (claims, signature, error) in [
            ("e30=", "c2ln", "Invalid payload padding"),
            ("e31", "c2ln", "Invalid payload padding"),
            ("e30", "c2l+", "Invalid crypto padding"),
            ("e30", "c2l", "Invalid crypto padding"),
        ] {
            let token = format!("{header}.{claims}.{signature}");
            let error_of = decode(&segments(&rules, &token).unwrap()).unwrap_err();
            assert_eq!(error_of.description, error, "{token}");
        }
    }

    fn header_check(json: &str) -> Result<(), JwtError> {
        let rules = rules();
        let token = format!("{}.e30.", encoded(json));
        segments(&rules, &token).map(drop)
    }

    #[test]
    fn registered_header_parameters_of_the_wrong_type_are_malformed() {
        for json in [
            r#"{"alg":"HS256","kid":5}"#,
            r#"{"alg":"HS256","kid":null}"#,
            r#"{"alg":"HS256","kid":["a"]}"#,
            r#"{"alg":["HS256"]}"#,
            r#"{"alg":null}"#,
            r#"{"alg":"HS256","typ":1}"#,
            r#"{"alg":"HS256","cty":{}}"#,
            r#"{"alg":"HS256","jku":true}"#,
            r#"{"alg":"HS256","x5u":1}"#,
            r#"{"alg":"HS256","x5t":1}"#,
            r#"{"alg":"HS256","x5t#S256":1}"#,
            r#"{"alg":"HS256","x5c":"abc"}"#,
            r#"{"alg":"HS256","x5c":[1]}"#,
            r#"{"alg":"HS256","jwk":"abc"}"#,
            r#"{"alg":"HS256","crit":"exp"}"#,
            r#"{"alg":"HS256","b64":"false"}"#,
            r#"{"alg":"HS256","zip":1}"#,
        ] {
            let error = header_check(json).expect_err(json);
            assert_eq!(error.check(), Some(Check::WellFormed), "{json}");
            assert_eq!(
                error.description, "Invalid header: a registered parameter has the wrong type",
                "{json}"
            );
        }
    }

    #[test]
    fn registered_header_parameters_of_the_right_type_pass() {
        header_check(
            r#"{"alg":"HS256","kid":"k","typ":"JWT","cty":"json","jku":"https://a/","x5u":"https://b/",
                "x5t":"t","x5t#S256":"t","x5c":["MII"],"jwk":{"kty":"oct"},"custom":7}"#,
        )
        .unwrap();
    }

    #[test]
    fn claims_must_be_an_object_with_a_string_subject() {
        let rules = rules();
        for whole in [false, true] {
            let claims_of = |json: &str| {
                let token = format!("{}.{}.", encoded(r#"{"alg":"HS256"}"#), encoded(json));
                claims(decode(&segments(&rules, &token).unwrap()).unwrap().0, whole)
            };
            assert!(claims_of(r#"{"sub":"42"}"#).is_ok());
            assert_eq!(
                claims_of(r#"{"sub":42}"#).unwrap_err().description,
                "Invalid subject: sub must be a string"
            );
            assert_eq!(
                claims_of("[]").unwrap_err().description,
                "Invalid payload string: must be a json object"
            );
            assert_eq!(
                claims_of(r#"{"a":1,"a":2}"#).unwrap_err().description,
                "Invalid payload string: duplicate member \"a\""
            );
        }
    }
}

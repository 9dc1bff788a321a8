//! Finding the request's token in the route's locations, in order (Flask-JWT-Extended's
//! `_decode_jwt_from_request`): the first location that holds a token decides; a location that
//! holds none adds its reason to the "missing" answer; a malformed one refuses the request at once.
//!
//! A request guard sees no body, so the [`Jwt`](crate::Jwt) fairing peeks at the first
//! [`PEEK_BYTES`] bytes of JSON and form bodies on arrival ([`peek_body`]); the JSON location and
//! the CSRF form field read that.

use std::borrow::Cow;

use rocket::data::Data;
use rocket::http::{ContentType, RawStr, Status};
use rocket::Request;
use serde_json::Value;

use crate::authz::rules::{Location, RouteRules};
use crate::error::{ErrorKind, JwtError};
use crate::http::extract;
use crate::settings::{Profile, Settings};

/// The most a request guard can see of a body: Rocket's peek buffer holds 512 bytes.
pub(crate) const PEEK_BYTES: usize = 512;

/// A token found in a request.
#[derive(Debug)]
pub(crate) struct Found<'r> {
    pub(crate) token: Cow<'r, str>,
    pub(crate) location: Location,
    /// The CSRF value sent beside a cookie token on a CSRF-protected method.
    pub(crate) csrf: Option<Cow<'r, str>>,
    /// The token came with the `DPoP` scheme (RFC 9449 §7.1), on a route that reads it.
    pub(crate) dpop: bool,
}

/// What one location held.
enum Lookup<'r> {
    Found(Cow<'r, str>, Option<Cow<'r, str>>),
    /// No token there, and why (Flask-JWT-Extended's message).
    Missing(String),
}

/// The values of the request's header `name` (ASCII case-insensitive), in order: what
/// `request.headers().get(name)` gives, found by comparing names instead of hashing one. Rocket's
/// header map hashes an uncased name byte by byte with SipHash (about 1,000 instructions for
/// `Authorization`, a third of the guard of a request whose token is cached); a request has a
/// few headers (hyper accepts 100 at most), and a name of another length is passed over at once.
///
/// The map lends every value as `Cow::Borrowed`; an owned one could not outlive this call and
/// is passed over (the token is then missing, never taken from elsewhere).
fn header_values<'r, 'n>(
    request: &'r Request<'_>,
    name: &'n str,
) -> impl Iterator<Item = &'r str> + use<'r, 'n> {
    request.headers().iter().filter_map(move |header| {
        if !extract::same_ignoring_ascii_case(header.name().as_str().as_bytes(), name.as_bytes()) {
            return None;
        }
        match header.value {
            Cow::Borrowed(value) => Some(value),
            Cow::Owned(_) => None,
        }
    })
}

/// The request's token from the locations of `rules` (or the `token_location` setting).
///
/// No token anywhere is a [`ErrorKind::MissingToken`] error whose description says why for
/// each location; a malformed header or query value, or a cookie token without its CSRF value,
/// is the error of that location.
pub(crate) fn find<'r>(
    request: &'r Request<'_>,
    settings: &Settings,
    rules: &RouteRules,
) -> Result<Found<'r>, JwtError> {
    match rules.dpop_mode(settings).is_on() {
        false => find_in::<false>(request, settings, rules),
        true => find_in::<true>(request, settings, rules),
    }
}

/// [`find`], reading the `DPoP` scheme in the header location when `DPOP`: a route without DPoP
/// runs the loop without that arm.
fn find_in<'r, const DPOP: bool>(
    request: &'r Request<'_>,
    settings: &Settings,
    rules: &RouteRules,
) -> Result<Found<'r>, JwtError> {
    let locations = rules.locations.unwrap_or(&settings.token_location);
    let mut reasons = Vec::new();
    for &location in locations {
        let lookup = match location {
            Location::Headers if DPOP => match dpop_credential(request, settings)? {
                Some(token) => {
                    return Ok(Found {
                        token: Cow::Borrowed(token),
                        location,
                        csrf: None,
                        dpop: true,
                    })
                }
                None => header(request, settings)?,
            },
            Location::Headers => header(request, settings)?,
            Location::Cookies => cookie(request, settings, rules.refresh)?,
            Location::QueryString => query_string(request, settings)?,
            Location::Json => json(request, settings, rules.refresh)?,
        };
        match lookup {
            Lookup::Found(token, csrf) => {
                return Ok(Found {
                    token,
                    location,
                    csrf,
                    dpop: false,
                })
            }
            Lookup::Missing(reason) => reasons.push(reason),
        }
    }
    Err(missing(settings.profile, locations, reasons))
}

/// The "no token" error: Flask-JWT's `Authorization Required`, or Flask-JWT-Extended's message
/// (one location's reason, or every location's).
fn missing(profile: Profile, locations: &[Location], reasons: Vec<String>) -> JwtError {
    let description = match (profile, locations, reasons.as_slice()) {
        (Profile::FlaskJwt, ..) => JwtError::NO_TOKEN.to_owned(),
        (Profile::Extended, [_], [reason]) => reason.clone(),
        (Profile::Extended, [first @ .., last], _) => format!(
            "Missing JWT in {} or {last} ({})",
            first
                .iter()
                .map(|location| location.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            reasons.join("; ")
        ),
        (Profile::Extended, [], _) => "Missing JWT".to_owned(),
    };
    JwtError::missing_token(description)
}

// ----- headers ---------------------------------------------------------------------------------

fn header<'r>(request: &'r Request<'_>, settings: &Settings) -> Result<Lookup<'r>, JwtError> {
    let name = &settings.header_name;
    let mut values = header_values(request, name);
    let first = values.next();
    let second = values.next();
    match settings.profile {
        Profile::FlaskJwt => {
            if second.is_some() {
                return Err(JwtError::invalid_header("Multiple Authorization headers"));
            }
            Ok(
                match first
                    .map(|value| extract::parse_authorization(value, &settings.auth_header_prefix))
                    .transpose()?
                    .flatten()
                {
                    Some(token) => Lookup::Found(Cow::Borrowed(token), None),
                    None => Lookup::Missing(format!("Missing {name} Header")),
                },
            )
        }
        Profile::Extended => match second {
            None => bearer(first.unwrap_or(""), name, &settings.auth_header_prefix),
            // Several header lines are one comma-separated value, as Werkzeug joins them; the
            // token must still be the one credential of the configured type.
            Some(second) => {
                let joined = [first.unwrap_or(""), second]
                    .into_iter()
                    .chain(values)
                    .collect::<Vec<_>>()
                    .join(", ");
                let lookup = match bearer(&joined, name, &settings.auth_header_prefix)? {
                    Lookup::Found(token, _) => Lookup::Found(Cow::Owned(token.into_owned()), None),
                    Lookup::Missing(reason) => Lookup::Missing(reason),
                };
                Ok(lookup)
            }
        },
    }
}

/// The token of `<header_name>: DPoP <JWT>` (the scheme in any case, RFC 9110 §11.1), on a
/// route that takes DPoP; `None` when the header holds another scheme. A `DPoP` credential
/// among several header lines, or without exactly one token, is malformed.
///
/// Kept out of line (`cold`), so that routes without DPoP find their token as before.
#[cold]
#[inline(never)]
fn dpop_credential<'r>(
    request: &'r Request<'_>,
    settings: &Settings,
) -> Result<Option<&'r str>, JwtError> {
    let is_dpop = |value: &str| {
        value
            .trim_start()
            .get(..5)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("DPoP "))
    };
    let mut values = header_values(request, &settings.header_name);
    let (Some(value), None) = (values.next(), values.next()) else {
        let several = header_values(request, &settings.header_name).count() > 1;
        if several && header_values(request, &settings.header_name).any(is_dpop) {
            return Err(JwtError::invalid_header("Multiple Authorization headers"));
        }
        return Ok(None);
    };
    if !is_dpop(value) {
        return Ok(None);
    }
    let mut words = value.trim_start()[5..].split_whitespace();
    match (words.next(), words.next()) {
        (Some(token), None) if !token.contains(',') => Ok(Some(token)),
        _ => Err(JwtError::invalid_header(
            "Bad Authorization header. Expected 'Authorization: DPoP <JWT>'",
        )),
    }
}

/// Flask-JWT-Extended's reading of `<header_name>: <header_type> <JWT>`: the value may list
/// several comma-separated credentials, exactly one of which has the (case-sensitive) type.
fn bearer<'v>(value: &'v str, name: &str, kind: &str) -> Result<Lookup<'v>, JwtError> {
    if let Some(token) = usual_bearer(value, kind) {
        return Ok(Lookup::Found(Cow::Borrowed(token), None));
    }
    let value = value.trim().trim_matches(',');
    if value.is_empty() {
        return Ok(Lookup::Missing(format!("Missing {name} Header")));
    }
    if kind.is_empty() {
        let mut words = value.split_whitespace();
        return match (words.next(), words.next()) {
            (Some(token), None) => Ok(Lookup::Found(Cow::Borrowed(token), None)),
            _ => Err(bad_header(format!(
                "Bad {name} header. Expected '{name}: <JWT>'"
            ))),
        };
    }
    let mut typed = split_credentials(value)
        .filter(|credential| credential.split_whitespace().next() == Some(kind));
    let (Some(credential), None) = (typed.next(), typed.next()) else {
        return Ok(Lookup::Missing(format!(
            "Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'"
        )));
    };
    let mut words = credential.split_whitespace().skip(1);
    match (words.next(), words.next()) {
        (Some(token), None) => Ok(Lookup::Found(Cow::Borrowed(token), None)),
        _ => Err(bad_header(format!(
            "Bad {name} header. Expected '{name}: {kind} <JWT>'"
        ))),
    }
}

/// The usual header, `<kind> <token>` with one space and a token of visible ASCII characters
/// other than `,`, recognised in one pass; `None` for anything else, which the general rules then
/// read (with the same result for this form).
fn usual_bearer<'v>(value: &'v str, kind: &str) -> Option<&'v str> {
    let token = value.strip_prefix(kind)?.strip_prefix(' ')?;
    // One branch-free pass (the compiler vectorises it): any byte outside `!`..=`~`, or a comma.
    let unusual = token.bytes().fold(0u8, |seen, byte| {
        seen | u8::from(!(b'!'..=b'~').contains(&byte)) | u8::from(byte == b',')
    });
    (!kind.is_empty() && !token.is_empty() && unusual == 0).then_some(token)
}

/// The value split at commas, each part without the whitespace after its comma (`,\s*`).
fn split_credentials(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').enumerate().map(
        |(index, part)| {
            if index == 0 {
                part
            } else {
                part.trim_start()
            }
        },
    )
}

/// A malformed header or query value: Flask-JWT-Extended's `InvalidHeaderError` (422).
fn bad_header(description: String) -> JwtError {
    JwtError::new(
        Status::UnprocessableEntity,
        ErrorKind::InvalidHeader,
        "Invalid JWT header",
        description,
    )
}

// ----- cookies ---------------------------------------------------------------------------------

fn cookie<'r>(
    request: &'r Request<'_>,
    settings: &Settings,
    refresh: bool,
) -> Result<Lookup<'r>, JwtError> {
    let (cookie_name, header_name, field_name) = if refresh {
        (
            &settings.refresh_cookie_name,
            &settings.refresh_csrf_header_name,
            &settings.refresh_csrf_field_name,
        )
    } else {
        (
            &settings.access_cookie_name,
            &settings.access_csrf_header_name,
            &settings.access_csrf_field_name,
        )
    };
    let token = match request.cookies().get(cookie_name) {
        Some(cookie) if !cookie.value().is_empty() => cookie.value(),
        _ => return Ok(Lookup::Missing(format!("Missing cookie \"{cookie_name}\""))),
    };
    let method = request.method();
    let protected = settings.cookie_csrf_protect
        && settings
            .csrf_methods
            .iter()
            .any(|csrf_method| csrf_method.eq_ignore_ascii_case(method.as_str()));
    if !protected {
        return Ok(Lookup::Found(Cow::Borrowed(token), None));
    }
    let mut sent = header_values(request, header_name);
    let from_header = sent.next().filter(|value| !value.is_empty());
    if from_header.is_some() && sent.next().is_some() {
        // Two values: neither is taken (Werkzeug joins them into one that matches nothing).
        return Err(crate::authz::admission::csrf_mismatch());
    }
    let from_header = from_header.map(Cow::Borrowed);
    let csrf = from_header.or_else(|| {
        settings
            .csrf_check_form
            .then(|| form_field(request, field_name))
            .flatten()
    });
    match csrf {
        Some(csrf) => Ok(Lookup::Found(Cow::Borrowed(token), Some(csrf))),
        None => Err(JwtError::csrf("Missing CSRF token")),
    }
}

/// The first value of `field` in a form body (as far as it was peeked), if not empty.
fn form_field<'r>(request: &'r Request<'_>, field: &str) -> Option<Cow<'r, str>> {
    if request.content_type() != Some(&ContentType::Form) {
        return None;
    }
    let body = std::str::from_utf8(&peeked(request).bytes).ok()?;
    let value = body.split('&').find_map(|pair| {
        let (name, value) = RawStr::new(pair).split_at_byte(b'=');
        (name.url_decode_lossy() == field).then(|| value.url_decode_lossy())
    })?;
    (!value.is_empty()).then_some(value)
}

// ----- query string ----------------------------------------------------------------------------

fn query_string<'r>(request: &'r Request<'_>, settings: &Settings) -> Result<Lookup<'r>, JwtError> {
    let name = &settings.query_string_name;
    let value = request
        .uri()
        .query()
        .and_then(|query| query.segments().find(|(key, _)| key == name))
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty());
    let Some(value) = value else {
        return Ok(Lookup::Missing(format!("Missing '{name}' query paramater")));
    };
    let prefix = &settings.query_string_value_prefix;
    match value.strip_prefix(prefix.as_str()) {
        Some(token) => Ok(Lookup::Found(Cow::Borrowed(token), None)),
        None => Err(bad_header(format!(
            "Invalid value for query parameter '{name}'. Expected the value to start with \
             '{prefix}'"
        ))),
    }
}

// ----- JSON body -------------------------------------------------------------------------------

fn json<'r>(
    request: &'r Request<'_>,
    settings: &Settings,
    refresh: bool,
) -> Result<Lookup<'r>, JwtError> {
    if !request.content_type().is_some_and(is_json) {
        return Ok(Lookup::Missing(
            "Invalid content-type. Must be application/json.".to_owned(),
        ));
    }
    let key = if refresh {
        &settings.refresh_json_key
    } else {
        &settings.json_key
    };
    let missing = || Lookup::Missing(format!("Missing \"{key}\" key in json data."));
    let body = peeked(request);
    if !body.complete {
        return Ok(Lookup::Missing(format!(
            "Missing \"{key}\" key in json data. (only JSON bodies of up to {PEEK_BYTES} bytes \
             are read for a token)"
        )));
    }
    let Ok(Value::Object(mut members)) = serde_json::from_slice::<Value>(&body.bytes) else {
        return Ok(missing());
    };
    match members.remove(key.as_str()) {
        None | Some(Value::Null) => Ok(missing()),
        Some(Value::String(token)) if token.is_empty() => Ok(missing()),
        Some(Value::String(token)) => Ok(Lookup::Found(Cow::Owned(token), None)),
        Some(Value::Bool(false)) => Ok(missing()),
        Some(_) => Err(JwtError::invalid_token(
            crate::error::Check::WellFormed,
            "Invalid token type. Token must be a <class 'bytes'>",
        )),
    }
}

/// `application/json` or `application/<anything>+json`, as Flask's `request.is_json`.
fn is_json(content_type: &ContentType) -> bool {
    content_type.top() == "application"
        && (content_type.sub() == "json" || content_type.sub().as_str().ends_with("+json"))
}

/// The start of the request's body, as the fairing peeked it.
#[derive(Debug, Default)]
pub(crate) struct Peeked {
    bytes: Vec<u8>,
    /// The whole body is in `bytes`.
    complete: bool,
}

fn peeked<'r>(request: &'r Request<'_>) -> &'r Peeked {
    request.local_cache(Peeked::default)
}

/// On arrival: keeps the first [`PEEK_BYTES`] of a JSON or form body for the token locations
/// (the body itself is left for the handler). Other requests cost a content-type check.
pub(crate) async fn peek_body(request: &Request<'_>, data: &mut Data<'_>) {
    let wanted = request
        .content_type()
        .is_some_and(|content_type| is_json(content_type) || *content_type == ContentType::Form);
    if !wanted {
        return;
    }
    let bytes = data.peek(PEEK_BYTES).await.to_vec();
    // The peek buffer may hold more than it shows: the body is whole only when what was shown
    // is shorter than the buffer, or as long as the declared length.
    let declared = request
        .headers()
        .get_one("Content-Length")
        .and_then(|length| length.parse::<usize>().ok());
    let complete =
        data.peek_complete() && (bytes.len() < PEEK_BYTES || declared == Some(bytes.len()));
    request.local_cache(|| Peeked { bytes, complete });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(lookup: Result<Lookup<'_>, JwtError>) -> Result<String, String> {
        match lookup {
            Ok(Lookup::Found(token, _)) => Ok(token.into_owned()),
            Ok(Lookup::Missing(reason)) => Err(reason),
            Err(error) => Err(format!("{} {}", error.status.code, error.description)),
        }
    }

    #[test]
    fn header_values_are_what_the_header_map_gives() {
        let rocket = rocket::custom(rocket::Config::debug_default());
        let client = rocket::local::blocking::Client::untracked(rocket).expect("a client");
        let mut request = client.get("/");
        for (name, value) in [
            ("authorization", "JWT a"),
            ("X-Other", "x"),
            ("AUTHORIZATION", "JWT b"),
            ("X-CSRF-TOKEN", "c"),
            ("Authorizatio", "short"),
            ("Authorizations", "long"),
        ] {
            request.add_header(rocket::http::Header::new(name, value));
        }
        for name in [
            "Authorization",
            "authorization",
            "x-csrf-token",
            "X-Missing",
            "",
        ] {
            let expected: Vec<&str> = request.inner().headers().get(name).collect();
            let found: Vec<&str> = header_values(request.inner(), name).collect();
            assert_eq!(found, expected, "{name}");
        }
        assert_eq!(
            header_values(request.inner(), "Authorization").collect::<Vec<_>>(),
            ["JWT a", "JWT b"]
        );
    }

    #[test]
    fn bearer_headers_are_read_as_flask_jwt_extended_reads_them() {
        let read = |value| found(bearer(value, "Authorization", "Bearer"));
        assert_eq!(read("Bearer abc"), Ok("abc".into()));
        assert_eq!(read("  Bearer abc ,"), Ok("abc".into()));
        assert_eq!(read("Basic xyz, Bearer abc"), Ok("abc".into()));
        assert_eq!(read("Bearer abc,Basic xyz"), Ok("abc".into()));
        assert_eq!(
            read(""),
            Err("Missing Authorization Header".into()),
            "blank is missing"
        );
        assert_eq!(read(" , "), Err("Missing Authorization Header".into()));
        let untyped = Err(
            "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer \
             <JWT>'"
                .to_owned(),
        );
        assert_eq!(read("bearer abc"), untyped, "the type is case-sensitive");
        assert_eq!(read("JWT abc"), untyped);
        assert_eq!(
            read("Bearer a, Bearer b"),
            untyped,
            "two bearer credentials"
        );
        let bad =
            Err("422 Bad Authorization header. Expected 'Authorization: Bearer <JWT>'".to_owned());
        assert_eq!(read("Bearer"), bad);
        assert_eq!(read("Bearer a b"), bad);
        let read = |value| found(bearer(value, "X-Token", ""));
        assert_eq!(read("abc"), Ok("abc".into()));
        assert_eq!(
            read("a b"),
            Err("422 Bad X-Token header. Expected 'X-Token: <JWT>'".into())
        );
    }

    #[test]
    fn the_usual_bearer_form_reads_as_the_general_rules_read_it() {
        for value in [
            "Bearer abc.def.ghi",
            "Bearer abc,",
            "Bearer a,b",
            "Bearer  abc",
            "Bearer abc ",
            "Bearer ",
            "Bearer",
            "bearer abc",
            "Bearer ab\tc",
            "Bearer abcé",
            "Basic x, Bearer abc",
        ] {
            let general = {
                let value = value.trim().trim_matches(',');
                // The general rules alone, as `bearer` applies them after the usual form.
                let typed: Vec<&str> = split_credentials(value)
                    .filter(|credential| credential.split_whitespace().next() == Some("Bearer"))
                    .collect();
                match typed.as_slice() {
                    [one] => {
                        let words: Vec<&str> = one.split_whitespace().skip(1).collect();
                        (words.len() == 1).then(|| words[0].to_owned())
                    }
                    _ => None,
                }
            };
            if let Some(token) = usual_bearer(value, "Bearer") {
                assert_eq!(Some(token.to_owned()), general, "{value:?}");
            }
        }
        assert_eq!(usual_bearer("Bearer abc", "Bearer"), Some("abc"));
        assert_eq!(usual_bearer("Bearer a,b", "Bearer"), None);
        assert_eq!(usual_bearer("Bearer abc", ""), None);
    }

    #[test]
    fn missing_everywhere_lists_every_location() {
        let error = missing(
            Profile::Extended,
            &Location::ALL,
            vec!["a".into(), "b".into(), "c".into(), "d".into()],
        );
        assert_eq!(
            error.description,
            "Missing JWT in headers, cookies, query_string or json (a; b; c; d)"
        );
        assert_eq!(error.kind, ErrorKind::MissingToken);
        let one = missing(Profile::Extended, &[Location::Cookies], vec!["x".into()]);
        assert_eq!(one.description, "x");
        let flask_jwt = missing(Profile::FlaskJwt, &[Location::Headers], vec!["x".into()]);
        assert_eq!(
            flask_jwt.description,
            "Request does not contain an access token"
        );
    }

    #[test]
    fn json_content_types_are_flask_s() {
        assert!(is_json(&ContentType::JSON));
        assert!(is_json(&ContentType::new("application", "ld+json")));
        assert!(!is_json(&ContentType::Plain));
        assert!(!is_json(&ContentType::Form));
    }
}

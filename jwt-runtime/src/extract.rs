//! Finding the token in a request: Flask-JWT's default request handler.

use rocket::http::Status;
use rocket::Request;

use crate::error::{ErrorKind, JwtError};

/// Reads the token from `Authorization: <prefix> <token>`, as Flask-JWT 0.3.2 does.
///
/// - no header, or one that is empty or blank: `Ok(None)` (the caller answers
///   `Authorization Required`);
/// - a scheme other than `prefix` (compared case-insensitively): `Unsupported authorization type`;
/// - the prefix alone: `Token missing`; more than two words: `Token contains spaces`.
///
/// Two `Authorization` headers are refused rather than picking one.
pub fn authorization_token<'r>(
    request: &'r Request<'_>,
    prefix: &str,
) -> Result<Option<&'r str>, JwtError> {
    let mut values = request.headers().get("Authorization");
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(JwtError::invalid_header("Multiple Authorization headers"));
    }
    parse_authorization(value, prefix)
}

/// The parsing half of [`authorization_token`], on the header's value.
pub fn parse_authorization<'v>(value: &'v str, prefix: &str) -> Result<Option<&'v str>, JwtError> {
    let mut parts = value.split_whitespace();
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

/// 401 `Authorization Required` with the `WWW-Authenticate` challenge for `realm`.
pub fn authorization_required(scheme: &str, realm: &str) -> JwtError {
    let escaped = realm.replace('\\', "\\\\").replace('"', "\\\"");
    JwtError::new(
        Status::Unauthorized,
        ErrorKind::MissingToken,
        "Authorization Required",
        "Request does not contain an access token",
    )
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
        assert_eq!(description("JWT"), "Token missing");
        assert_eq!(description("JWT a b"), "Token contains spaces");
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
    fn challenge_quotes_the_realm() {
        let err = authorization_required("JWT", "Admin \"area\"");
        assert_eq!(err.headers[0].1, r#"JWT realm="Admin \"area\"""#);
        assert_eq!(err.status, Status::Unauthorized);
    }
}

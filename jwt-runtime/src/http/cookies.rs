//! The JWT cookies a response sets and unsets: the access and refresh token cookies and their
//! CSRF cookies, written as Flask-JWT-Extended 4.7.1 writes them (see [`JwtCookies`]).
//!
//! Each cookie goes through Rocket's [`CookieJar`], so the rest of the request sees it pending
//! and Rocket emits it. Rocket's jar adds defaults of its own (`SameSite=Strict` when none is
//! given, `Secure` under TLS) and formats the attributes in its own order, so each cookie is also
//! recorded here with the exact `Set-Cookie` line Flask-JWT-Extended sends (werkzeug's format).
//! Rocket turns the jar's pending cookies into `Set-Cookie` headers before the response fairings
//! run; the [`Jwt`](crate::Jwt) fairing's response hook ([`write_exact_lines`](crate::http::finish::write_exact_lines)) then puts the
//! recorded line in place of each line the jar emitted for one of these cookies. A line the jar
//! did not emit (an error answered by a catcher, whose response Rocket sends without the pending
//! cookies) is not added.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::time::{OffsetDateTime, UtcOffset};
use rocket::Request;
use serde_json::Value;

use crate::error::{JwtError, JwtResponse};
use crate::http::engine::{Authenticator, Registered};
use crate::http::finish::JwtCookie;
use crate::settings::Settings;

/// Flask-JWT-Extended's max-age when `session_cookie` is off: 31,540,000 s (a year).
const NON_SESSION_MAX_AGE: u64 = 31_540_000;

/// The request guard that sets and unsets the JWT cookies of the response, with
/// Flask-JWT-Extended's names, paths and attributes (`HttpOnly` on the token cookies, not on the
/// CSRF cookies; `Secure`, `Domain`, `SameSite` and max-age from the settings).
///
/// The CSRF cookies are set only when `cookie_csrf_protect` and `csrf_in_cookies` are both on;
/// their value is the token's `csrf` claim. The `_with` methods take Flask-JWT-Extended's
/// optional `max_age` and `domain` arguments: `None` (or a zero max-age, or an empty domain)
/// falls back to the settings. An unset cookie has an empty value and expires on 1 January 1970.
///
/// The cookies go through Rocket's [`CookieJar`]: later guards and the handler see them with
/// [`CookieJar::get_pending`] (an unset cookie as an empty, expired one), and Rocket sends them
/// with the handler's response. The lines sent are exactly Flask-JWT-Extended's, whatever Rocket's
/// own cookie defaults: the [`Jwt`](crate::Jwt) fairing rewrites them on the way out. When a
/// request ends in an error that a catcher answers, Rocket sends none of its pending cookies, and
/// neither are these sent.
///
/// The guard needs the [`Jwt`](crate::Jwt) fairing; without it, it fails the request with a 500.
///
/// ```
/// # use rocket::{post, routes};
/// use rocket_flask_jwt_runtime::extended::JwtCookies;
/// use rocket_flask_jwt_runtime::{Jwt, JwtResponse};
///
/// #[post("/login/cookies", data = "<token>")]
/// fn login(cookies: JwtCookies<'_>, token: &str) -> Result<&'static str, JwtResponse> {
///     cookies.set_access_cookies(token)?;
///     Ok("logged in")
/// }
///
/// #[post("/logout/cookies")]
/// fn logout(cookies: JwtCookies<'_>) -> Result<&'static str, JwtResponse> {
///     cookies.unset_jwt_cookies()?;
///     Ok("logged out")
/// }
///
/// let jwt = Jwt::builder()
///     .secret_key("a secret of at least thirty-two bytes")
///     .identity_handler(|_payload| Some(1_u64))
///     .disable_auth_url_rule()
///     .build()
///     .expect("valid Jwt configuration");
/// let rocket = rocket::build().attach(jwt).mount("/", routes![login, logout]);
///
/// # let client = rocket::local::blocking::Client::tracked(rocket).expect("valid rocket");
/// // A token whose claims are {"csrf": "c5f0"} (the cookie helpers do not verify it).
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJjc3JmIjoiYzVmMCJ9.c2ln";
/// let response = client.post("/login/cookies").body(token).dispatch();
/// let lines: Vec<_> = response.headers().get("Set-Cookie").collect();
/// assert_eq!(
///     lines,
///     [
///         format!("access_token_cookie={token}; HttpOnly; Path=/"),
///         "csrf_access_token=c5f0; Path=/".to_string(),
///     ]
/// );
///
/// let response = client.post("/logout/cookies").dispatch();
/// let lines: Vec<_> = response.headers().get("Set-Cookie").collect();
/// assert_eq!(lines[0], "access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/");
/// assert_eq!(lines.len(), 4);
/// ```
pub struct JwtCookies<'r> {
    engine: &'r dyn Authenticator,
    jar: &'r CookieJar<'r>,
    written: &'r Mutex<Vec<JwtCookie>>,
}

impl<'r> JwtCookies<'r> {
    /// The cookies of `request`'s response, or `None` when the [`Jwt`](crate::Jwt) fairing is not
    /// attached.
    pub(crate) fn of(request: &'r Request<'_>) -> Option<Self> {
        let Registered(engine) = request.rocket().state::<Registered>()?;
        Some(JwtCookies {
            engine: &**engine,
            jar: request.cookies(),
            written: &crate::http::finish::of(request).cookies,
        })
    }

    /// Flask-JWT-Extended's `set_access_cookies(response, token)`: the access token cookie and,
    /// with CSRF protection in cookies, the access CSRF cookie.
    ///
    /// Fails, setting nothing, when the CSRF cookie is due and `token` has no `csrf` claim to
    /// read (the claims are read without verifying the token: it is the one the application just
    /// issued), or when the cookie domain is not an ASCII domain name. The error is a 500 built
    /// by the error callback, to answer as is.
    pub fn set_access_cookies(&self, token: &str) -> Result<(), JwtResponse> {
        self.set_access_cookies_with(token, None, None)
    }

    /// [`set_access_cookies`](Self::set_access_cookies) with Flask-JWT-Extended's `max_age`
    /// (whole seconds; `None` or zero: the `session_cookie` setting decides) and `domain`
    /// (`None` or empty: the `cookie_domain` setting).
    pub fn set_access_cookies_with(
        &self,
        token: &str,
        max_age: Option<Duration>,
        domain: Option<&str>,
    ) -> Result<(), JwtResponse> {
        self.set_cookies(Kind::Access, token, max_age, domain)
    }

    /// Flask-JWT-Extended's `set_refresh_cookies(response, token)`: the refresh token cookie
    /// and, with CSRF protection in cookies, the refresh CSRF cookie. Fails as
    /// [`set_access_cookies`](Self::set_access_cookies) does.
    pub fn set_refresh_cookies(&self, token: &str) -> Result<(), JwtResponse> {
        self.set_refresh_cookies_with(token, None, None)
    }

    /// [`set_refresh_cookies`](Self::set_refresh_cookies) with `max_age` and `domain`, as
    /// [`set_access_cookies_with`](Self::set_access_cookies_with) takes them.
    pub fn set_refresh_cookies_with(
        &self,
        token: &str,
        max_age: Option<Duration>,
        domain: Option<&str>,
    ) -> Result<(), JwtResponse> {
        self.set_cookies(Kind::Refresh, token, max_age, domain)
    }

    /// The cookies of `kind` for `token`, as of now.
    fn set_cookies(
        &self,
        kind: Kind,
        token: &str,
        max_age: Option<Duration>,
        domain: Option<&str>,
    ) -> Result<(), JwtResponse> {
        let now = OffsetDateTime::now_utc();
        self.write(set(self.settings(), kind, token, max_age, domain, now))
    }

    /// Flask-JWT-Extended's `unset_jwt_cookies(response)`: unsets the access cookies, then the
    /// refresh cookies. Fails (a 500, setting nothing) only when the cookie domain is not an
    /// ASCII domain name.
    pub fn unset_jwt_cookies(&self) -> Result<(), JwtResponse> {
        self.unset_jwt_cookies_with(None)
    }

    /// [`unset_jwt_cookies`](Self::unset_jwt_cookies) with Flask-JWT-Extended's `domain`
    /// (`None` or empty: the `cookie_domain` setting).
    pub fn unset_jwt_cookies_with(&self, domain: Option<&str>) -> Result<(), JwtResponse> {
        self.unset_access_cookies_with(domain)?;
        self.unset_refresh_cookies_with(domain)
    }

    /// Flask-JWT-Extended's `unset_access_cookies(response)`: the access token cookie and, with
    /// CSRF protection in cookies, the access CSRF cookie, emptied and expired.
    pub fn unset_access_cookies(&self) -> Result<(), JwtResponse> {
        self.unset_access_cookies_with(None)
    }

    /// [`unset_access_cookies`](Self::unset_access_cookies) with `domain`.
    pub fn unset_access_cookies_with(&self, domain: Option<&str>) -> Result<(), JwtResponse> {
        self.write(unset(self.settings(), Kind::Access, domain))
    }

    /// Flask-JWT-Extended's `unset_refresh_cookies(response)`: the refresh token cookie and,
    /// with CSRF protection in cookies, the refresh CSRF cookie, emptied and expired.
    pub fn unset_refresh_cookies(&self) -> Result<(), JwtResponse> {
        self.unset_refresh_cookies_with(None)
    }

    /// [`unset_refresh_cookies`](Self::unset_refresh_cookies) with `domain`.
    pub fn unset_refresh_cookies_with(&self, domain: Option<&str>) -> Result<(), JwtResponse> {
        self.write(unset(self.settings(), Kind::Refresh, domain))
    }

    fn settings(&self) -> &'r Settings {
        self.engine.settings()
    }

    /// Adds `cookies` to the jar and records their exact lines for the response hook; an error
    /// becomes the error callback's response.
    /// The refresh cookies of a rotated refresh token (the rotation's own, so the error stays
    /// a [`JwtError`] for the guard to answer).
    fn write_refresh(&self, token: &str) -> Result<(), JwtError> {
        let now = OffsetDateTime::now_utc();
        self.push(set(self.settings(), Kind::Refresh, token, None, None, now)?);
        Ok(())
    }

    fn write(&self, cookies: Result<Vec<JwtCookie>, JwtError>) -> Result<(), JwtResponse> {
        let cookies = cookies.map_err(|error| {
            log::error!("jwt: {error}");
            self.engine.respond(error, None, None)
        })?;
        self.push(cookies);
        Ok(())
    }

    /// Adds `cookies` to the jar, and to the lines the response fairing writes.
    fn push(&self, cookies: Vec<JwtCookie>) {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        for cookie in cookies {
            self.jar.add(cookie.jar.clone());
            written.push(cookie);
        }
    }
}

/// After a refresh-token rotation of `request` whose token came in a cookie, its successor in
/// the refresh cookies (once): the guard's and the refresh resource's last step.
pub(crate) fn write_rotated(request: &Request<'_>) -> Result<(), JwtError> {
    let Some(rotated) = crate::http::finish::of(request).rotated.get() else {
        return Ok(());
    };
    if !rotated.in_cookie
        || rotated
            .cookies_written
            .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        return Ok(());
    }
    match JwtCookies::of(request) {
        Some(cookies) => cookies.write_refresh(&rotated.refresh_token),
        None => Ok(()),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for JwtCookies<'r> {
    /// The [`Jwt`](crate::Jwt) fairing is not attached.
    type Error = JwtError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match JwtCookies::of(request) {
            Some(cookies) => Outcome::Success(cookies),
            None => {
                let error = JwtError::internal(
                    "the Jwt fairing is not attached: JwtCookies needs .attach(Jwt::builder()...build()?)",
                );
                log::error!("jwt: {error}");
                Outcome::Error((Status::InternalServerError, error))
            }
        }
    }
}

/// Which pair of cookies.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Access,
    Refresh,
}

/// The names and paths of a pair: (token cookie, path), (CSRF cookie, path).
fn names(settings: &Settings, kind: Kind) -> [(&str, &str); 2] {
    match kind {
        Kind::Access => [
            (&settings.access_cookie_name, &settings.access_cookie_path),
            (
                &settings.access_csrf_cookie_name,
                &settings.access_csrf_cookie_path,
            ),
        ],
        Kind::Refresh => [
            (&settings.refresh_cookie_name, &settings.refresh_cookie_path),
            (
                &settings.refresh_csrf_cookie_name,
                &settings.refresh_csrf_cookie_path,
            ),
        ],
    }
}

/// Whether the helpers write the CSRF cookies too.
fn csrf_cookies(settings: &Settings) -> bool {
    settings.cookie_csrf_protect && settings.csrf_in_cookies
}

/// The cookies `set_access_cookies` / `set_refresh_cookies` write at `now`.
fn set(
    settings: &Settings,
    kind: Kind,
    token: &str,
    max_age: Option<Duration>,
    domain: Option<&str>,
    now: OffsetDateTime,
) -> Result<Vec<JwtCookie>, JwtError> {
    // Flask-JWT-Extended: `max_age or config.cookie_max_age`.
    let max_age = max_age
        .map(|age| age.as_secs())
        .filter(|&seconds| seconds > 0)
        .or((!settings.session_cookie).then_some(NON_SESSION_MAX_AGE));
    let expiry = match max_age {
        None => None,
        Some(seconds) => {
            let expires = i64::try_from(seconds)
                .ok()
                .and_then(|seconds| now.checked_add(rocket::time::Duration::seconds(seconds)))
                .filter(|expires| expires.year() <= 9999)
                .ok_or_else(|| JwtError::internal("the cookie max-age ends after the year 9999"))?;
            Some(Expiry::MaxAge { seconds, expires })
        }
    };
    let attributes = Attributes::new(settings, domain, expiry)?;
    let [(name, path), (csrf_name, csrf_path)] = names(settings, kind);
    let mut cookies = vec![attributes.cookie(name, token, path, true)];
    if csrf_cookies(settings) {
        cookies.push(attributes.cookie(csrf_name, &csrf_claim(token)?, csrf_path, false));
    }
    Ok(cookies)
}

/// The cookies `unset_access_cookies` / `unset_refresh_cookies` write.
fn unset(
    settings: &Settings,
    kind: Kind,
    domain: Option<&str>,
) -> Result<Vec<JwtCookie>, JwtError> {
    let attributes = Attributes::new(settings, domain, Some(Expiry::Expired))?;
    let [(name, path), (csrf_name, csrf_path)] = names(settings, kind);
    let mut cookies = vec![attributes.cookie(name, "", path, true)];
    if csrf_cookies(settings) {
        cookies.push(attributes.cookie(csrf_name, "", csrf_path, false));
    }
    Ok(cookies)
}

/// The `csrf` claim of `token`, read without verifying it.
fn csrf_claim(token: &str) -> Result<String, JwtError> {
    let unreadable = || {
        JwtError::internal(
            "cannot set the CSRF cookie: the token is not a JWT with a string `csrf` claim \
             (issue it with cookie_csrf_protect on)",
        )
    };
    match crate::http::issue::unverified_parts(token) {
        Some((_, claims)) => match claims.get("csrf") {
            Some(Value::String(csrf)) => Ok(csrf.clone()),
            _ => Err(unreadable()),
        },
        None => Err(unreadable()),
    }
}

/// When a cookie ends.
#[derive(Debug, Clone, Copy)]
enum Expiry {
    /// `Max-Age` seconds from `expires` less that (werkzeug writes both).
    MaxAge {
        seconds: u64,
        expires: OffsetDateTime,
    },
    /// Already: `Expires` at the epoch (an unset cookie).
    Expired,
}

/// What the cookies of one helper call share.
struct Attributes<'a> {
    secure: bool,
    domain: Option<String>,
    same_site: Option<&'a str>,
    expiry: Option<Expiry>,
}

impl<'a> Attributes<'a> {
    fn new(
        settings: &'a Settings,
        domain: Option<&str>,
        expiry: Option<Expiry>,
    ) -> Result<Self, JwtError> {
        // Flask-JWT-Extended: `domain or config.cookie_domain`.
        let domain = domain
            .filter(|domain| !domain.is_empty())
            .or(settings.cookie_domain.as_deref())
            .filter(|domain| !domain.is_empty())
            .map(cookie_domain)
            .transpose()?;
        Ok(Attributes {
            secure: settings.cookie_secure,
            domain,
            same_site: settings.cookie_samesite.as_deref(),
            expiry,
        })
    }

    /// The cookie `name=value` with these attributes, at `path`.
    fn cookie(&self, name: &str, value: &str, path: &str, http_only: bool) -> JwtCookie {
        let path = quote_path(path);
        let (max_age, expires) = match self.expiry {
            None => (None, None),
            Some(Expiry::MaxAge { seconds, expires }) => (Some(seconds), Some(expires)),
            Some(Expiry::Expired) => (None, Some(OffsetDateTime::UNIX_EPOCH)),
        };

        let mut line = format!("{name}={}", quote_value(value));
        let mut attribute = |attribute: &str| {
            line.push_str("; ");
            line.push_str(attribute);
        };
        if let Some(domain) = &self.domain {
            attribute(&format!("Domain={domain}"));
        }
        if let Some(expires) = expires {
            attribute(&format!("Expires={}", http_date(expires)));
        }
        if let Some(max_age) = max_age {
            attribute(&format!("Max-Age={max_age}"));
        }
        if self.secure {
            attribute("Secure");
        }
        if http_only {
            attribute("HttpOnly");
        }
        attribute(&format!("Path={path}"));
        if let Some(same_site) = self.same_site {
            attribute(&format!("SameSite={same_site}"));
        }

        let same_site = match self.same_site {
            Some("Strict") => SameSite::Strict,
            Some("None") => SameSite::None,
            _ => SameSite::Lax,
        };
        let mut jar = Cookie::build((name.to_owned(), value.to_owned()))
            .path(path)
            .http_only(http_only)
            .secure(self.secure)
            .same_site(same_site)
            .build();
        if let Some(domain) = &self.domain {
            jar.set_domain(domain.clone());
        }
        if let Some(max_age) = max_age {
            // `set` checked that `max_age` seconds fit in an `i64` (the year 9999 is sooner).
            jar.set_max_age(rocket::time::Duration::seconds(
                i64::try_from(max_age).unwrap_or(i64::MAX),
            ));
        }
        if let Some(expires) = expires {
            jar.set_expires(expires);
        }
        let rocket_line = jar.encoded().to_string();
        JwtCookie {
            jar,
            rocket_line,
            line,
        }
    }
}

/// werkzeug's `Domain`: the host without a port or leading dots. Its IDNA encoding is not done
/// here: a domain that is not ASCII, or has an empty label, is refused.
fn cookie_domain(domain: &str) -> Result<String, JwtError> {
    let host = domain.split(':').next().unwrap_or_default();
    let host = host.trim_start_matches('.');
    let labels: Vec<&str> = host.strip_suffix('.').unwrap_or(host).split('.').collect();
    let valid = host.is_ascii()
        && labels
            .iter()
            .all(|label| !label.is_empty() && label.len() <= 63);
    if !valid {
        return Err(JwtError::internal(format!(
            "the cookie domain {domain:?} is not an ASCII domain name (write an internationalized \
             domain in its xn-- form)"
        )));
    }
    Ok(host.to_owned())
}

/// werkzeug's `Path`: percent-encoded but for letters, digits, `_.-~`, `%` and `!$&'()*+,/:=@`.
fn quote_path(path: &str) -> String {
    let mut quoted = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"_.-~%!$&'()*+,/:=@".contains(&byte) {
            quoted.push(char::from(byte));
        } else {
            quoted.push_str(&format!("%{byte:02X}"));
        }
    }
    quoted
}

/// werkzeug's cookie value: as is when made of RFC 6265's characters (a JWT, a UUID), otherwise
/// quoted with `"` and `\` escaped and control characters, `,`, `;` and non-ASCII bytes written
/// as three octal digits. (werkzeug leaves control characters 0x1A to 0x1F raw, which no header
/// can carry; they are escaped here.)
fn quote_value(value: &str) -> String {
    let plain =
        |byte: u8| byte.is_ascii_alphanumeric() || b"_!#$%&'()*+-./:<=>?@[]^`{|}~".contains(&byte);
    if value.bytes().all(plain) {
        return value.to_owned();
    }
    let mut quoted = String::from("\"");
    for byte in value.bytes() {
        match byte {
            b'"' => quoted.push_str("\\\""),
            b'\\' => quoted.push_str("\\\\"),
            b',' | b';' | 0..=0x1F | 0x7F..=0xFF => quoted.push_str(&format!("\\{byte:03o}")),
            _ => quoted.push(char::from(byte)),
        }
    }
    quoted.push('"');
    quoted
}

/// An HTTP date, as werkzeug writes `Expires`: `Thu, 01 Jan 1970 00:00:00 GMT`.
fn http_date(time: OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let time = time.to_offset(UtcOffset::UTC);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[usize::from(time.weekday().number_days_from_monday())],
        time.day(),
        MONTHS[usize::from(u8::from(time.month()) - 1)],
        time.year(),
        time.hour(),
        time.minute(),
        time.second(),
    )
}

#[cfg(test)]
mod tests {
    //! The expected lines are Flask-JWT-Extended 4.7.1's (werkzeug 3.1's format), printed by
    //! `response.headers.getlist("Set-Cookie")` after each helper, with the token values
    //! substituted.

    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    const CSRF: &str = "db3082aa-82b8-403d-beba-1b32d9ebc2b2";
    /// When werkzeug wrote the lines with an `Expires` below: 2026-11-30 08:34:14 UTC.
    const NOW: OffsetDateTime = at(1_796_027_654);

    const fn at(timestamp: i64) -> OffsetDateTime {
        match OffsetDateTime::from_unix_timestamp(timestamp) {
            Ok(time) => time,
            Err(_) => panic!("a timestamp in range"),
        }
    }

    /// A token whose claims carry `csrf` (its signature is not checked by the helpers).
    fn token(claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{claims}.c2lnbmF0dXJl")
    }

    fn access_token() -> String {
        token(&serde_json::json!({"sub": "user1", "type": "access", "csrf": CSRF}))
    }

    fn lines(cookies: &[JwtCookie]) -> Vec<String> {
        cookies.iter().map(|cookie| cookie.line.clone()).collect()
    }

    /// The lines of `set_access_cookies(token, max_age, domain)` under `settings`.
    fn set_access(settings: &Settings, max_age: Option<u64>, domain: Option<&str>) -> Vec<String> {
        let token = access_token();
        let max_age = max_age.map(Duration::from_secs);
        let cookies = set(settings, Kind::Access, &token, max_age, domain, NOW)
            .expect("a token with a csrf claim");
        lines(&cookies)
            .into_iter()
            .map(|line| line.replace(&token, "<access>"))
            .collect()
    }

    /// The lines of `set_refresh_cookies(token)` under `settings`, for a refresh token whose
    /// `csrf` claim is `r-csrf`.
    fn set_refresh(settings: &Settings) -> Vec<String> {
        let token =
            token(&serde_json::json!({"sub": "user1", "type": "refresh", "csrf": "r-csrf"}));
        let cookies = set(settings, Kind::Refresh, &token, None, None, NOW)
            .expect("a token with a csrf claim");
        lines(&cookies)
            .into_iter()
            .map(|line| line.replace(&token, "<refresh>"))
            .collect()
    }

    fn unset_lines(settings: &Settings, kind: Kind, domain: Option<&str>) -> Vec<String> {
        lines(&unset(settings, kind, domain).expect("an ASCII domain"))
    }

    fn settings(change: impl FnOnce(&mut Settings)) -> Settings {
        let mut settings = Settings::default();
        change(&mut settings);
        settings
    }

    #[test]
    fn defaults_set_httponly_token_and_readable_csrf_cookies() {
        let settings = Settings::default();
        assert_eq!(
            set_access(&settings, None, None),
            [
                "access_token_cookie=<access>; HttpOnly; Path=/".to_string(),
                format!("csrf_access_token={CSRF}; Path=/"),
            ]
        );
        let refresh =
            token(&serde_json::json!({"sub": "user1", "type": "refresh", "csrf": "r-csrf"}));
        let cookies = set(&settings, Kind::Refresh, &refresh, None, None, NOW).expect("csrf claim");
        assert_eq!(
            lines(&cookies),
            [
                format!("refresh_token_cookie={refresh}; HttpOnly; Path=/"),
                "csrf_refresh_token=r-csrf; Path=/".to_string(),
            ]
        );
    }

    #[test]
    fn defaults_unset_with_empty_values_expired_at_the_epoch() {
        let settings = Settings::default();
        assert_eq!(
            unset_lines(&settings, Kind::Access, None),
            [
                "access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/",
                "csrf_access_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
            ]
        );
        assert_eq!(
            unset_lines(&settings, Kind::Refresh, None),
            [
                "refresh_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/",
                "csrf_refresh_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
            ]
        );
    }

    #[test]
    fn cookie_secure_adds_secure_before_httponly() {
        let settings = settings(|s| s.cookie_secure = true);
        assert_eq!(
            set_access(&settings, None, None),
            [
                "access_token_cookie=<access>; Secure; HttpOnly; Path=/".to_string(),
                format!("csrf_access_token={CSRF}; Secure; Path=/"),
            ]
        );
        assert_eq!(
            set_refresh(&settings),
            [
                "refresh_token_cookie=<refresh>; Secure; HttpOnly; Path=/",
                "csrf_refresh_token=r-csrf; Secure; Path=/",
            ]
        );
        assert_eq!(
            unset_lines(&settings, Kind::Access, None),
            [
                "access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; Path=/",
                "csrf_access_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; Path=/",
            ]
        );
    }

    #[test]
    fn samesite_comes_last_as_given_and_none_adds_no_secure() {
        for same_site in ["Lax", "None", "Strict"] {
            let settings = settings(|s| s.cookie_samesite = Some(same_site.into()));
            assert_eq!(
                set_access(&settings, None, None),
                [
                    format!("access_token_cookie=<access>; HttpOnly; Path=/; SameSite={same_site}"),
                    format!("csrf_access_token={CSRF}; Path=/; SameSite={same_site}"),
                ]
            );
            assert_eq!(
                set_refresh(&settings),
                [
                    format!(
                        "refresh_token_cookie=<refresh>; HttpOnly; Path=/; SameSite={same_site}"
                    ),
                    format!("csrf_refresh_token=r-csrf; Path=/; SameSite={same_site}"),
                ]
            );
            assert_eq!(
                unset_lines(&settings, Kind::Access, None),
                [
                    format!(
                        "access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; \
                         Path=/; SameSite={same_site}"
                    ),
                    format!(
                        "csrf_access_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; \
                         SameSite={same_site}"
                    ),
                ]
            );
            assert_eq!(
                unset_lines(&settings, Kind::Refresh, None),
                [
                    format!(
                        "refresh_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; \
                         Path=/; SameSite={same_site}"
                    ),
                    format!(
                        "csrf_refresh_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; \
                         SameSite={same_site}"
                    ),
                ]
            );
        }
    }

    #[test]
    fn domain_comes_first_without_leading_dot_or_port_and_the_argument_wins() {
        for configured in ["example.com", ".example.com", "example.com:8080"] {
            let settings = settings(|s| s.cookie_domain = Some(configured.into()));
            assert_eq!(
                set_access(&settings, None, None),
                [
                    "access_token_cookie=<access>; Domain=example.com; HttpOnly; Path=/"
                        .to_string(),
                    format!("csrf_access_token={CSRF}; Domain=example.com; Path=/"),
                ]
            );
            assert_eq!(
                set_access(&settings, None, Some("other.org")),
                [
                    "access_token_cookie=<access>; Domain=other.org; HttpOnly; Path=/".to_string(),
                    format!("csrf_access_token={CSRF}; Domain=other.org; Path=/"),
                ]
            );
            // An empty argument falls back to the setting (Flask-JWT-Extended's `domain or ...`).
            assert_eq!(
                set_access(&settings, None, Some("")),
                set_access(&settings, None, None)
            );
            assert_eq!(
                unset_lines(&settings, Kind::Access, None)[0],
                "access_token_cookie=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; \
                 HttpOnly; Path=/"
            );
        }
        assert_eq!(
            unset_lines(&Settings::default(), Kind::Refresh, Some("other.org")),
            [
                "refresh_token_cookie=; Domain=other.org; Expires=Thu, 01 Jan 1970 00:00:00 GMT; \
                 HttpOnly; Path=/",
                "csrf_refresh_token=; Domain=other.org; Expires=Thu, 01 Jan 1970 00:00:00 GMT; \
                 Path=/",
            ]
        );
    }

    #[test]
    fn a_domain_werkzeug_cannot_encode_is_refused() {
        for domain in ["bücher.de", "a..b", ""] {
            let error = cookie_domain(domain).expect_err("not an ASCII domain name");
            assert!(
                error.to_string().contains("not an ASCII domain name"),
                "{error}"
            );
        }
        let error = unset(&Settings::default(), Kind::Access, Some("a..b")).expect_err("refused");
        assert!(error.to_string().contains("a..b"), "{error}");
        assert_eq!(cookie_domain("localhost").expect("valid"), "localhost");
        assert_eq!(
            cookie_domain("Example.COM.").expect("valid"),
            "Example.COM."
        );
    }

    #[test]
    fn max_age_writes_expires_then_max_age_and_zero_means_the_setting() {
        let settings = Settings::default();
        assert_eq!(
            set_access(&settings, Some(60), None),
            [
                "access_token_cookie=<access>; Expires=Mon, 30 Nov 2026 08:35:14 GMT; Max-Age=60; \
                 HttpOnly; Path=/"
                    .to_string(),
                format!(
                    "csrf_access_token={CSRF}; Expires=Mon, 30 Nov 2026 08:35:14 GMT; Max-Age=60; \
                     Path=/"
                ),
            ]
        );
        assert_eq!(
            set_access(&settings, Some(0), None),
            set_access(&settings, None, None)
        );
        let error = set(
            &settings,
            Kind::Access,
            &access_token(),
            Some(Duration::from_secs(u64::MAX)),
            None,
            NOW,
        )
        .expect_err("too far");
        assert!(error.to_string().contains("9999"), "{error}");
    }

    #[test]
    fn session_cookie_off_gives_a_year_of_max_age_unless_the_argument_says_otherwise() {
        let settings = settings(|s| s.session_cookie = false);
        assert_eq!(
            set_access(&settings, None, None),
            [
                "access_token_cookie=<access>; Expires=Tue, 30 Nov 2027 09:40:54 GMT; \
                 Max-Age=31540000; HttpOnly; Path=/"
                    .to_string(),
                format!(
                    "csrf_access_token={CSRF}; Expires=Tue, 30 Nov 2027 09:40:54 GMT; \
                     Max-Age=31540000; Path=/"
                ),
            ]
        );
        assert_eq!(
            set_refresh(&settings),
            [
                "refresh_token_cookie=<refresh>; Expires=Tue, 30 Nov 2027 09:40:54 GMT; \
                 Max-Age=31540000; HttpOnly; Path=/",
                "csrf_refresh_token=r-csrf; Expires=Tue, 30 Nov 2027 09:40:54 GMT; \
                 Max-Age=31540000; Path=/",
            ]
        );
        assert_eq!(
            set_access(&settings, Some(60), None)[0],
            "access_token_cookie=<access>; Expires=Mon, 30 Nov 2026 08:35:14 GMT; Max-Age=60; \
             HttpOnly; Path=/"
        );
        // Unsetting ignores it: no Max-Age.
        assert_eq!(
            unset_lines(&settings, Kind::Access, None)[0],
            "access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/"
        );
    }

    #[test]
    fn every_attribute_at_once_in_werkzeugs_order() {
        let settings = settings(|s| {
            s.cookie_secure = true;
            s.cookie_samesite = Some("None".into());
            s.cookie_domain = Some("example.com".into());
            s.session_cookie = false;
        });
        assert_eq!(
            set_access(&settings, None, None),
            [
                "access_token_cookie=<access>; Domain=example.com; Expires=Tue, 30 Nov 2027 \
                 09:40:54 GMT; Max-Age=31540000; Secure; HttpOnly; Path=/; SameSite=None"
                    .to_string(),
                format!(
                    "csrf_access_token={CSRF}; Domain=example.com; Expires=Tue, 30 Nov 2027 \
                     09:40:54 GMT; Max-Age=31540000; Secure; Path=/; SameSite=None"
                ),
            ]
        );
        assert_eq!(
            unset_lines(&settings, Kind::Access, None),
            [
                "access_token_cookie=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; \
                 Secure; HttpOnly; Path=/; SameSite=None",
                "csrf_access_token=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; \
                 Secure; Path=/; SameSite=None",
            ]
        );
    }

    #[test]
    fn no_csrf_cookie_without_csrf_protection_or_csrf_in_cookies() {
        for settings in [
            settings(|s| s.cookie_csrf_protect = false),
            settings(|s| s.csrf_in_cookies = false),
        ] {
            assert_eq!(
                set_access(&settings, None, None),
                ["access_token_cookie=<access>; HttpOnly; Path=/"]
            );
            assert_eq!(
                unset_lines(&settings, Kind::Refresh, None),
                ["refresh_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/"]
            );
            assert_eq!(
                unset_lines(&settings, Kind::Access, None),
                ["access_token_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/"]
            );
            // No claim is read: a token without `csrf` is fine, for either kind.
            let plain = token(&serde_json::json!({"sub": "user1"}));
            for kind in [Kind::Access, Kind::Refresh] {
                let cookies =
                    set(&settings, kind, &plain, None, None, NOW).expect("no claim needed");
                assert_eq!(cookies.len(), 1);
            }
            assert_eq!(
                lines(&set(&settings, Kind::Refresh, &plain, None, None, NOW).expect("no claim"))
                    [0],
                format!("refresh_token_cookie={plain}; HttpOnly; Path=/")
            );
        }
    }

    #[test]
    fn custom_names_and_paths() {
        let settings = settings(|s| {
            s.access_cookie_name = "a".into();
            s.access_cookie_path = "/api/".into();
            s.access_csrf_cookie_name = "ca".into();
            s.access_csrf_cookie_path = "/c/".into();
            s.refresh_cookie_name = "r".into();
            s.refresh_cookie_path = "/token/refresh".into();
            s.refresh_csrf_cookie_name = "cr".into();
            s.refresh_csrf_cookie_path = "/cr/".into();
        });
        assert_eq!(
            set_access(&settings, None, None),
            [
                "a=<access>; HttpOnly; Path=/api/".to_string(),
                format!("ca={CSRF}; Path=/c/")
            ]
        );
        assert_eq!(
            unset_lines(&settings, Kind::Refresh, None),
            [
                "r=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/token/refresh",
                "cr=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/cr/",
            ]
        );
    }

    #[test]
    fn the_csrf_value_is_the_tokens_claim_and_a_token_without_one_is_refused() {
        assert_eq!(csrf_claim(&access_token()).expect("claim"), CSRF);
        // PyJWT accepts padded segments; so does the claim reader.
        let padded = access_token().replacen('.', "==.", 2);
        assert_eq!(csrf_claim(&padded).expect("claim"), CSRF);
        let settings = Settings::default();
        for bad in [
            token(&serde_json::json!({"sub": "user1"})),
            token(&serde_json::json!({"csrf": 7})),
            "not a token".to_string(),
            "a.b".to_string(),
            "a.b.c.d".to_string(),
            "a.%%%.c".to_string(),
            format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]")),
        ] {
            let error = set(&settings, Kind::Access, &bad, None, None, NOW).expect_err("no claim");
            assert!(error.to_string().contains("csrf"), "{error}");
            assert!(
                !error.to_string().contains(&bad),
                "the token is not echoed: {error}"
            );
        }
    }

    #[test]
    fn the_jar_cookie_carries_the_same_cookie_with_an_explicit_samesite() {
        let cookies = set(
            &Settings::default(),
            Kind::Access,
            &access_token(),
            None,
            None,
            NOW,
        )
        .expect("claim");
        let [token, csrf] = &cookies[..] else {
            panic!("two cookies: {cookies:?}");
        };
        assert_eq!(token.jar.value(), access_token());
        assert_eq!(token.jar.http_only(), Some(true));
        assert_eq!(token.jar.secure(), Some(false));
        assert_eq!(token.jar.same_site(), Some(SameSite::Lax));
        assert_eq!(token.jar.path(), Some("/"));
        assert_eq!(csrf.jar.value(), CSRF);
        assert_eq!(csrf.jar.http_only(), Some(false));
        assert_eq!(
            token.rocket_line,
            format!(
                "access_token_cookie={}; HttpOnly; SameSite=Lax; Path=/",
                access_token()
            )
        );
        let unset = unset(&Settings::default(), Kind::Access, None).expect("no domain");
        assert_eq!(unset[0].jar.value(), "");
        assert_eq!(
            unset[0].jar.expires_datetime(),
            Some(OffsetDateTime::UNIX_EPOCH)
        );
    }

    #[test]
    fn values_and_paths_are_quoted_as_werkzeug_quotes_them() {
        // `dump_cookie("k", value)` / `dump_cookie("k", "v", path=path)` in werkzeug 3.1.
        assert_eq!(quote_value("{x}"), "{x}");
        assert_eq!(quote_value("a b"), r#""a b""#);
        assert_eq!(quote_value("a;b"), r#""a\073b""#);
        assert_eq!(quote_value("a,b"), r#""a\054b""#);
        assert_eq!(quote_value("é"), r#""\303\251""#);
        assert_eq!(quote_value(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote_value("\r\n"), r#""\015\012""#);
        assert_eq!(quote_path("/a b/"), "/a%20b/");
        assert_eq!(quote_path("/é"), "/%C3%A9");
        assert_eq!(quote_path("/x;y"), "/x%3By");
        assert_eq!(quote_path("/%41"), "/%41");
        assert_eq!(quote_path("/a?b#c"), "/a%3Fb%23c");
    }

    #[test]
    fn http_dates_are_written_as_werkzeug_writes_them() {
        assert_eq!(
            http_date(OffsetDateTime::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(http_date(NOW), "Mon, 30 Nov 2026 08:34:14 GMT");
        assert_eq!(
            http_date(
                at(1_801_962_245).to_offset(UtcOffset::from_hms(2, 0, 0).expect("a valid offset"))
            ),
            "Sun, 07 Feb 2027 01:04:05 GMT"
        );
    }
}

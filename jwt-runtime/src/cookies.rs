//! The JWT cookies a response sets and unsets: the access and refresh token cookies and their
//! CSRF cookies, written as Flask-JWT-Extended 4.7.1 writes them (see [`JwtCookies`]).
//!
//! Each cookie goes through Rocket's [`CookieJar`], so the rest of the request sees it pending
//! and Rocket emits it. Rocket's jar adds defaults of its own (`SameSite=Strict` when none is
//! given, `Secure` under TLS) and formats the attributes in its own order, so each cookie is also
//! recorded here with the exact `Set-Cookie` line Flask-JWT-Extended sends (werkzeug's format).
//! Rocket turns the jar's pending cookies into `Set-Cookie` headers before the response fairings
//! run; the [`Jwt`](crate::Jwt) fairing's response hook ([`write_exact_lines`]) then puts the
//! recorded line in place of each line the jar emitted for one of these cookies. A line the jar
//! did not emit (an error answered by a catcher, whose response Rocket sends without the pending
//! cookies) is not added.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::time::{OffsetDateTime, UtcOffset};
use rocket::{Request, Response};
use serde_json::Value;

use crate::claims::Payload;
use crate::error::JwtError;
use crate::guard::Registered;
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
/// # #[macro_use] extern crate rocket;
/// use jwt_runtime::{Jwt, JwtCookies, JwtError};
///
/// #[post("/login/cookies", data = "<token>")]
/// fn login(cookies: JwtCookies<'_>, token: &str) -> Result<&'static str, JwtError> {
///     cookies.set_access_cookies(token)?;
///     Ok("logged in")
/// }
///
/// #[post("/logout/cookies")]
/// fn logout(cookies: JwtCookies<'_>) -> Result<&'static str, JwtError> {
///     cookies.unset_jwt_cookies()?;
///     Ok("logged out")
/// }
///
/// let jwt = Jwt::<u64>::builder()
///     .secret_key("a secret of at least thirty-two bytes")
///     .identity_handler(|_payload| Some(1))
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
    settings: &'r Settings,
    jar: &'r CookieJar<'r>,
    written: &'r Written,
}

impl<'r> JwtCookies<'r> {
    /// The cookies of `request`'s response, or `None` when the [`Jwt`](crate::Jwt) fairing is not
    /// attached.
    pub(crate) fn of(request: &'r Request<'_>) -> Option<Self> {
        let Registered(engine) = request.rocket().state::<Registered>()?;
        Some(JwtCookies {
            settings: engine.settings(),
            jar: request.cookies(),
            written: request.local_cache(Written::default),
        })
    }

    /// Flask-JWT-Extended's `set_access_cookies(response, token)`: the access token cookie and,
    /// with CSRF protection in cookies, the access CSRF cookie.
    ///
    /// Fails when the CSRF cookie is due and `token` has no `csrf` claim to read (the claims
    /// are read without verifying the token: it is the one the application just issued), or when
    /// the cookie domain is not an ASCII domain name.
    pub fn set_access_cookies(&self, token: &str) -> Result<(), JwtError> {
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
    ) -> Result<(), JwtError> {
        let now = OffsetDateTime::now_utc();
        let cookies = set(self.settings, Kind::Access, token, max_age, domain, now)?;
        self.write(cookies);
        Ok(())
    }

    /// Flask-JWT-Extended's `set_refresh_cookies(response, token)`: the refresh token cookie
    /// and, with CSRF protection in cookies, the refresh CSRF cookie. Fails as
    /// [`set_access_cookies`](Self::set_access_cookies) does.
    pub fn set_refresh_cookies(&self, token: &str) -> Result<(), JwtError> {
        self.set_refresh_cookies_with(token, None, None)
    }

    /// [`set_refresh_cookies`](Self::set_refresh_cookies) with `max_age` and `domain`, as
    /// [`set_access_cookies_with`](Self::set_access_cookies_with) takes them.
    pub fn set_refresh_cookies_with(
        &self,
        token: &str,
        max_age: Option<Duration>,
        domain: Option<&str>,
    ) -> Result<(), JwtError> {
        let now = OffsetDateTime::now_utc();
        let cookies = set(self.settings, Kind::Refresh, token, max_age, domain, now)?;
        self.write(cookies);
        Ok(())
    }

    /// Flask-JWT-Extended's `unset_jwt_cookies(response)`: unsets the access cookies, then the
    /// refresh cookies. Fails only when the cookie domain is not an ASCII domain name.
    pub fn unset_jwt_cookies(&self) -> Result<(), JwtError> {
        self.unset_jwt_cookies_with(None)
    }

    /// [`unset_jwt_cookies`](Self::unset_jwt_cookies) with Flask-JWT-Extended's `domain`
    /// (`None` or empty: the `cookie_domain` setting).
    pub fn unset_jwt_cookies_with(&self, domain: Option<&str>) -> Result<(), JwtError> {
        self.unset_access_cookies_with(domain)?;
        self.unset_refresh_cookies_with(domain)
    }

    /// Flask-JWT-Extended's `unset_access_cookies(response)`: the access token cookie and, with
    /// CSRF protection in cookies, the access CSRF cookie, emptied and expired.
    pub fn unset_access_cookies(&self) -> Result<(), JwtError> {
        self.unset_access_cookies_with(None)
    }

    /// [`unset_access_cookies`](Self::unset_access_cookies) with `domain`.
    pub fn unset_access_cookies_with(&self, domain: Option<&str>) -> Result<(), JwtError> {
        self.write(unset(self.settings, Kind::Access, domain)?);
        Ok(())
    }

    /// Flask-JWT-Extended's `unset_refresh_cookies(response)`: the refresh token cookie and,
    /// with CSRF protection in cookies, the refresh CSRF cookie, emptied and expired.
    pub fn unset_refresh_cookies(&self) -> Result<(), JwtError> {
        self.unset_refresh_cookies_with(None)
    }

    /// [`unset_refresh_cookies`](Self::unset_refresh_cookies) with `domain`.
    pub fn unset_refresh_cookies_with(&self, domain: Option<&str>) -> Result<(), JwtError> {
        self.write(unset(self.settings, Kind::Refresh, domain)?);
        Ok(())
    }

    /// Adds `cookies` to the jar and records their exact lines for the response hook.
    fn write(&self, cookies: Vec<JwtCookie>) {
        let mut written = self.written.0.lock().unwrap_or_else(PoisonError::into_inner);
        for cookie in cookies {
            self.jar.add(cookie.jar.clone());
            written.push(cookie);
        }
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

/// Request-local: the cookies [`JwtCookies`] wrote, in order.
#[derive(Default)]
struct Written(Mutex<Vec<JwtCookie>>);

/// One cookie as Rocket's jar holds it and as Flask-JWT-Extended writes it.
#[derive(Debug, Clone)]
struct JwtCookie {
    /// What goes in the jar: the same name, value, path, domain, `HttpOnly`, `Secure` and expiry;
    /// `SameSite` is the setting, or `Lax` (what browsers assume when the attribute is absent)
    /// where Flask-JWT-Extended sends none, so that Rocket adds no default of its own.
    jar: Cookie<'static>,
    /// The `Set-Cookie` line Rocket emits for `jar`.
    rocket_line: String,
    /// The `Set-Cookie` line Flask-JWT-Extended sends.
    line: String,
}

/// The response fairing's part: each `Set-Cookie` line the jar emitted for a cookie
/// [`JwtCookies`] wrote is replaced by Flask-JWT-Extended's line for it. These come after the
/// other `Set-Cookie` lines, in the order they were written (the jar keeps one cookie per name:
/// the last written).
pub(crate) fn write_exact_lines<'r>(request: &'r Request<'_>, response: &mut Response<'r>) {
    if !response.headers().contains("Set-Cookie") {
        return;
    }
    let written = request.local_cache(Written::default);
    let written = written.0.lock().unwrap_or_else(PoisonError::into_inner);
    if written.is_empty() {
        return;
    }
    let mut lines: Vec<String> = response
        .headers()
        .get("Set-Cookie")
        .map(str::to_owned)
        .collect();
    let mut exact = Vec::new();
    for (index, cookie) in written.iter().enumerate() {
        let name = cookie.jar.name();
        let overwritten = written[index + 1..]
            .iter()
            .any(|later| later.jar.name() == name);
        if overwritten {
            continue;
        }
        if let Some(at) = lines.iter().position(|line| *line == cookie.rocket_line) {
            lines.remove(at);
            exact.push(cookie.line.clone());
        }
    }
    if exact.is_empty() {
        return;
    }
    response.remove_header("Set-Cookie");
    for line in lines.into_iter().chain(exact) {
        response.adjoin_raw_header("Set-Cookie", line);
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
fn unset(settings: &Settings, kind: Kind, domain: Option<&str>) -> Result<Vec<JwtCookie>, JwtError> {
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
    let mut segments = token.split('.');
    let (Some(_), Some(claims), Some(_), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(unreadable());
    };
    let claims = URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .map_err(|_| unreadable())?;
    let claims: Payload = serde_json::from_slice(&claims).map_err(|_| unreadable())?;
    match claims.get("csrf") {
        Some(Value::String(csrf)) => Ok(csrf.clone()),
        _ => Err(unreadable()),
    }
}

/// When a cookie ends.
#[derive(Debug, Clone, Copy)]
enum Expiry {
    /// `Max-Age` seconds from `expires` less that (werkzeug writes both).
    MaxAge { seconds: u64, expires: OffsetDateTime },
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
    let plain = |byte: u8| byte.is_ascii_alphanumeric() || b"_!#$%&'()*+-./:<=>?@[]^`{|}~".contains(&byte);
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

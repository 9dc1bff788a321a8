//! Fetching over HTTP: the key set's body (bounded in time and size, no redirects), OIDC
//! discovery, and the rules a JWKS URL must follow.

use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use super::JwksError;

/// The one HTTP client configuration for the authority's endpoints: no redirects, the timeout for
/// connecting and for the whole exchange, a user agent naming this library, TLS on the crypto
/// backend's provider.
pub(super) fn client(timeout: Duration) -> Result<reqwest::Client, JwksError> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!(
            "jwt-runtime/",
            env!("CARGO_PKG_VERSION"),
            " (jwks)"
        ));
    crate::crypto::with_tls(builder)
        .map_err(JwksError::Client)?
        .build()
        .map_err(|e| JwksError::Client(error_chain(&e)))
}

/// The body of a GET to `url`, refused past `max` bytes while it streams in, on a non-2xx status
/// and on a redirect.
pub(super) async fn download(
    client: &reqwest::Client,
    url: &Url,
    max: usize,
) -> Result<Vec<u8>, JwksError> {
    let failed = |e: reqwest::Error| JwksError::Fetch(format!("{url}: {}", error_chain(&e)));
    let mut response = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    if status.is_redirection() {
        return Err(JwksError::Fetch(format!(
            "{url} answered {status}; redirects are not followed"
        )));
    }
    if !status.is_success() {
        return Err(JwksError::Fetch(format!("{url} answered {status}")));
    }
    let too_large = || JwksError::Fetch(format!("{url}: the response exceeds {max} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > max as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len().saturating_add(chunk.len()) > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What OIDC discovery found at `<authority>/.well-known/openid-configuration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The provider's `issuer`, equal to the expected one.
    pub issuer: String,
    /// The provider's `jwks_uri`.
    pub jwks_uri: String,
}

/// OIDC discovery: reads the authority's `openid-configuration` (same URL rules, timeout and size
/// cap as a JWKS fetch) and checks that its `issuer` equals `expected_issuer` byte for byte, so a
/// misconfigured or impersonated authority is caught before any token is accepted.
pub async fn discover(
    authority: &str,
    expected_issuer: &str,
    timeout: Duration,
    max_bytes: usize,
) -> Result<Discovery, JwksError> {
    let base = authority.trim_end_matches('/');
    let url = check_url(&format!("{base}/.well-known/openid-configuration"))?;
    let client = client(timeout)?;
    let body = tokio::time::timeout(timeout, download(&client, &url, max_bytes))
        .await
        .map_err(|_| {
            JwksError::Fetch(format!("{url}: no complete response within {timeout:?}"))
        })??;
    let document: Value = serde_json::from_slice(&body)
        .map_err(|e| JwksError::Fetch(format!("{url}: not JSON: {e}")))?;
    let field = |name: &str| {
        document
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| JwksError::Fetch(format!("{url}: no `{name}` string")))
    };
    let issuer = field("issuer")?;
    if issuer != expected_issuer {
        return Err(JwksError::InvalidConfig(format!(
            "{url} names issuer {issuer:?}, but the configured issuer is {expected_issuer:?}"
        )));
    }
    let jwks_uri = field("jwks_uri")?;
    check_url(&jwks_uri)?;
    Ok(Discovery { issuer, jwks_uri })
}

/// The JWKS URL if it is allowed: `https://`, or `http://` to a loopback host; no credentials.
pub(super) fn check_url(url: &str) -> Result<Url, JwksError> {
    let parsed = Url::parse(url).map_err(|e| JwksError::InvalidUrl(format!("{url:?}: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(JwksError::InvalidUrl(
            "the URL must not carry credentials".into(),
        ));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| JwksError::InvalidUrl(format!("{url:?} has no host")))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(host) => Ok(parsed),
        "http" => Err(JwksError::InvalidUrl(format!(
            "{url:?}: plain http is allowed to loopback addresses only; use https"
        ))),
        scheme => Err(JwksError::InvalidUrl(format!(
            "{url:?}: scheme `{scheme}` is not https"
        ))),
    }
}

/// Whether a URL host (as `Url::host_str` writes it) is a loopback address or `localhost`.
fn is_loopback(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// An error and its sources, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

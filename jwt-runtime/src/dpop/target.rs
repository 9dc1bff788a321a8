//! A DPoP proof's `htu` and the request's URL, compared as RFC 9449 §4.3 says: without query and
//! fragment, after the syntax-based normalisation of RFC 3986 §6.2.2. Both are parsed as WHATWG
//! URLs (as browsers and Auth0's validator parse them: scheme and host lower-cased, the default
//! port dropped, dot segments removed), then the path's percent-encodings are made canonical
//! (hex digits upper-cased, unreserved characters decoded).

/// `url` as it is compared: `scheme://host[:port]/path`; `None` when it is not an absolute
/// `http` or `https` URL with a host.
pub(crate) fn normalise(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.username().is_empty() {
        return None;
    }
    let host = parsed.host_str()?;
    let mut normal = format!("{}://{host}", parsed.scheme());
    if let Some(port) = parsed.port() {
        normal.push_str(&format!(":{port}"));
    }
    canonical_path(parsed.path(), &mut normal);
    Some(normal)
}

/// The request's URL: `origin` (a scheme and authority) and the request's `path` as sent,
/// normalised as [`normalise`] does; `None` when they do not make a URL.
pub(crate) fn request_url(origin: &str, path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    normalise(&format!("{}{path}", origin.trim_end_matches('/')))
}

/// Appends `path` with each percent-encoding canonical: an unreserved character (RFC 3986 §2.3)
/// decoded, any other octet's hex digits upper-cased.
fn canonical_path(path: &str, out: &mut String) {
    let bytes = path.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%'
            && let Some(decoded) = bytes
                .get(index + 1..index + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            if decoded.is_ascii_alphanumeric() || b"-._~".contains(&decoded) {
                out.push(char::from(decoded));
            } else {
                out.push_str(&format!("%{decoded:02X}"));
            }
            index += 3;
            continue;
        }
        // The parser leaves only ASCII in a path: anything else is percent-encoded by it.
        out.push(char::from(byte));
        index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_urls_normalise_alike() {
        let expected = Some("https://server.example.com/token".to_owned());
        for url in [
            "https://server.example.com/token",
            "HTTPS://Server.Example.COM/token",
            "https://server.example.com:443/token",
            "https://server.example.com/token?x=1",
            "https://server.example.com/token#fragment",
            "https://server.example.com/a/../token",
            "https://server.example.com/./token",
            "https://server.example.com/%74oken",
        ] {
            assert_eq!(normalise(url), expected, "{url}");
        }
        assert_eq!(
            normalise("http://127.0.0.1:8000/a%2fb").as_deref(),
            Some("http://127.0.0.1:8000/a%2Fb")
        );
    }

    #[test]
    fn different_urls_stay_different() {
        let base = normalise("https://server.example.com/token");
        for url in [
            "http://server.example.com/token",
            "https://server.example.com:8443/token",
            "https://other.example.com/token",
            "https://server.example.com/token/",
            "https://server.example.com/Token",
            "https://server.example.com/a%2Ftoken",
        ] {
            assert_ne!(normalise(url), base, "{url}");
        }
    }

    #[test]
    fn only_absolute_http_urls_with_a_host_count() {
        for url in [
            "/token",
            "ftp://server.example.com/token",
            "https://user@server.example.com/token",
            "not a url",
            "",
        ] {
            assert_eq!(normalise(url), None, "{url}");
        }
    }

    #[test]
    fn the_request_url_joins_the_origin_and_the_path() {
        assert_eq!(
            request_url("https://API.example.com/", "/protected").as_deref(),
            Some("https://api.example.com/protected")
        );
        assert_eq!(request_url("https://api.example.com", "protected"), None);
    }
}

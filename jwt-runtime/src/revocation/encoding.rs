//! How a subject or a `jti` is written in the Redis store's keys and invalidation messages:
//! base64url without padding, so that any text (spaces, braces, colons) is one key part.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// A subject or `jti` as written in keys and messages: base64url without padding.
pub(crate) fn encode(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(value.as_bytes())
}

/// The inverse of [`encode`]; `None` for text that is not its output.
pub(crate) fn decode(text: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(text.as_bytes()).ok()?;
    String::from_utf8(bytes).ok()
}

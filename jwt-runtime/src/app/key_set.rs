//! The key ring's public keys, published: `GET <jwks_path>` (default `/.well-known/jwks.json`)
//! answers a JWKS of every key that is next, current or previous now, with an `ETag` (and `304`
//! to `If-None-Match`) and a `Cache-Control: max-age` no longer than the time between a pending
//! key's publication and its first use (nor than `jwks_max_age`), so that a verifier that cached
//! the set before a key was published fetches it again before that key signs. With an issuer
//! (`encode_issuer`), RFC 8414 metadata at `/.well-known/oauth-authorization-server` names it
//! (`issuer`, `jwks_uri`).
//!
//! Served with a key ring, or with a static asymmetric signing key (a JWKS of that one key, named
//! by its thumbprint; the tokens it signs carry no `kid`, as before): never a private member,
//! never an HMAC secret. An application route at the same path answers in its place.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};
use serde_json::{json, Value};

use crate::app::resource_metadata::Document;
use crate::claims::now;
use crate::error::JwtResponse;
use crate::keys::ring::{KeyRing, KeyState, SharedRing};
use crate::settings::Settings;

/// The routes' rank: after the application's own routes at the same paths (which then answer
/// instead, with no collision at launch).
const RANK: isize = 100;

/// The path of RFC 8414's metadata.
const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// The routes of `ring`: the JWKS, and the metadata when an issuer is set.
pub(crate) fn routes(ring: &Arc<SharedRing>, settings: &Settings) -> Vec<Route> {
    let mut routes = vec![Route::ranked(
        RANK,
        Method::Get,
        &settings.jwks_path,
        KeySet {
            ring: Arc::clone(ring),
            max_age: settings.jwks_max_age.as_secs() as i64,
        },
    )];
    if let Some(issuer) = settings
        .encode_issuer
        .as_deref()
        .filter(|issuer| issuer.starts_with("https://") || issuer.starts_with("http://"))
    {
        let document = json!({
            "issuer": issuer,
            "jwks_uri": format!("{}{}", issuer.trim_end_matches('/'), settings.jwks_path),
        });
        routes.push(Route::ranked(
            RANK,
            Method::Get,
            METADATA_PATH,
            Document(document.to_string().into_bytes()),
        ));
    }
    routes
}

/// The JWKS handler.
#[derive(Clone)]
struct KeySet {
    ring: Arc<SharedRing>,
    /// `jwks_max_age`, seconds.
    max_age: i64,
}

impl KeySet {
    /// The set's body, its `ETag` and its `Cache-Control` at `now`.
    fn document(&self, now: i64) -> (Vec<u8>, String, String) {
        let ring = self.ring.load();
        let keys: Vec<&Value> = ring
            .published(now)
            .into_iter()
            .map(|(key, _)| key.public_jwk())
            .collect();
        let body = json!({ "keys": keys }).to_string().into_bytes();
        let mut hasher = DefaultHasher::new();
        body.hash(&mut hasher);
        let etag = format!("\"{:016x}\"", hasher.finish());
        let cache = format!("public, max-age={}", max_age(&ring, now, self.max_age));
        (body, etag, cache)
    }
}

/// The longest a verifier may cache the set fetched at `now`: `configured`, or less when a key
/// not yet published signs sooner after its publication.
fn max_age(ring: &KeyRing, now: i64, configured: i64) -> i64 {
    ring.keys()
        .iter()
        .filter(|key| ring.state(key.kid(), now) == Some(KeyState::Pending))
        .map(|key| {
            let times = key.times();
            times.signs_from.saturating_sub(times.published_at).max(0)
        })
        .fold(configured.max(0), i64::min)
}

#[rocket::async_trait]
impl Handler for KeySet {
    async fn handle<'r>(&self, request: &'r Request<'_>, _: Data<'r>) -> Outcome<'r> {
        let (body, etag, cache) = self.document(now());
        let unchanged = request
            .headers()
            .get("If-None-Match")
            .flat_map(|value| value.split(','))
            .any(|tag| tag.trim() == etag || tag.trim() == "*");
        let response = if unchanged {
            JwtResponse::new(Status::NotModified)
        } else {
            JwtResponse::new(Status::Ok)
                .with_header("Content-Type", "application/json")
                .with_body(body)
        };
        let response = response
            .with_header("ETag", etag)
            .with_header("Cache-Control", cache);
        Outcome::from(request, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ring::tests::test_key;

    #[test]
    fn a_pending_key_shortens_the_cache_lifetime_to_its_lead() {
        // test_key publishes 10 s before it signs.
        let ring = KeyRing::new(
            vec![test_key("ec_a", 100, None), test_key("ec_b", 500, None)],
            60,
        )
        .expect("a ring");
        assert_eq!(
            max_age(&ring, 200, 300),
            10,
            "ec_b is pending: its lead of 10 s"
        );
        assert_eq!(
            max_age(&ring, 495, 300),
            300,
            "published: no constraint left"
        );
        assert_eq!(max_age(&ring, 200, 5), 5);
        let set = KeySet {
            ring: Arc::new(SharedRing::new(ring)),
            max_age: 300,
        };
        let (body, etag, _) = set.document(200);
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["keys"].as_array().map(Vec::len), Some(1));
        let (later, later_etag, _) = set.document(495);
        let later: Value = serde_json::from_slice(&later).expect("JSON");
        assert_eq!(later["keys"].as_array().map(Vec::len), Some(2));
        assert_ne!(etag, later_etag, "the tag follows the set");
    }
}

//! Micro-benchmarks of the request path, per algorithm (HS256, RS256, PS256, ES256, EdDSA).
//!
//! Group `request_path/<ALG>`, the same token each time:
//! - `a_jsonwebtoken_decode`: bare `jsonwebtoken::decode::<Map<String, Value>>` with a prebuilt
//!   `DecodingKey` and `Validation` — the baseline;
//! - `b_codec_decode`: `TokenCodec::decode` with the verified-token cache off — our full check
//!   path; `b_codec_decode_cached`: the same with the cache on (default size), i.e. a cache hit;
//! - `c_header_then_decode`: `parse_authorization("JWT <token>", "JWT")`, then (b);
//! - `d_guard` (cache off) and `d_guard_cached`: what a `#[jwt_required]` handler runs before its
//!   body, without HTTP or routing: `JwtAuth::from_request` on a prebuilt Rocket request (header
//!   lookup, `TokenCodec::verify`, the identity callback, the boxed future, `Identity`'s `Arc`),
//!   then `run_sync` with the handler's `current_identity!()`.
//!
//! Group `parts/<ALG>`, the pieces of (a) and (b):
//! - `parse`: the parsing half of check 1 (split, base64, header JSON into a `Map`, claims and
//!   signature base64);
//! - `crypto_verify`: `jsonwebtoken::crypto::verify` as (a) calls it — it builds a boxed
//!   verifier from the `DecodingKey` at every call (and aws-lc parses the public key again);
//! - `prepared_verify`: the same check as (b) makes it, with the key prepared once when it is
//!   loaded (`VerifyKey::verify`: an aws-lc-rs `hmac::Key` or `ParsedPublicKey`), signature
//!   base64 included;
//! - `claims_map`: the claims JSON into `serde_json::Map` (what check 1 does once the signature
//!   is verified);
//! - `claims_struct`: the same bytes into a typed struct (the registered claims only);
//! - `payload_clone`: cloning the claims `Map` (`TokenCodec::decode` returns a clone on a cache
//!   hit; the request guard shares the cached claims instead);
//! - `identity_arc`: `Identity::new` (one `Arc`) and the `downcast` of the handler.
//!
//! Group `issue/<ALG>`, issuing a token (what `POST /auth` does after the authentication callback):
//! - `a_jsonwebtoken_encode`: bare `jsonwebtoken::encode` of the same claims with a prebuilt
//!   `EncodingKey` — the baseline;
//! - `b_codec_encode`: `TokenCodec::encode` of Flask-JWT's default payload.
//!
//! Group `dispatch/<ALG>`: Rocket's in-process client (no sockets) on `/unprotected` and on
//! `/protected` (the guard, written as `#[jwt_required]` expands), cache off (`protected`) and on
//! (`protected_cached`), all with the same `Authorization` header and response body.
//!
//! `bash scripts/bench-micro.sh` runs these and prints the ratios; see docs/performance.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{DecodingKey, EncodingKey, Validation};
use rocket::http::Header;
use rocket::local::asynchronous::{Client, LocalRequest};
use rocket::request::FromRequest;
use rocket::{Build, Rocket};
use rocket_flask_jwt_runtime::identity::Identity;
use rocket_flask_jwt_runtime::testing::{self, current_identity, parse_authorization, VerifyKey};
use rocket_flask_jwt_runtime::{
    settings::KeyMaterial, settings::Secret, validation::TokenCodec, Algorithm, Jwt, JwtAuth,
    JwtResponse, Payload, Settings,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// An HS256 secret of 32 bytes or more (test value only).
const SECRET: &str = "bench-secret-bench-secret-bench-secret";
const RSA_PRIVATE: &str = include_str!("../../testdata/keys/rsa_private.pem");
const RSA_PUBLIC: &str = include_str!("../../testdata/keys/rsa_public.pem");
const EC_PRIVATE: &str = include_str!("../../testdata/keys/ec_private.pem");
const EC_PUBLIC: &str = include_str!("../../testdata/keys/ec_public.pem");
const ED_PRIVATE: &str = include_str!("../../testdata/keys/ed_private.pem");
const ED_PUBLIC: &str = include_str!("../../testdata/keys/ed_public.pem");

/// The system allocator, counting allocations while `COUNTING` is set (one relaxed load per
/// allocation otherwise, the same for every benchmark).
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            ALLOCATED_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by the system allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            ALLOCATED_BYTES.fetch_add(new_size, Ordering::Relaxed);
        }
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Prints the allocations (and bytes) per call of `f`, averaged over 1000 calls after a warm-up,
/// as `allocations <benchmark> <count> <bytes>` (read by scripts/bench-micro.sh).
fn count_allocations<R>(benchmark: &str, mut f: impl FnMut() -> R) {
    const CALLS: usize = 1000;
    for _ in 0..10 {
        black_box(f());
    }
    ALLOCATIONS.store(0, Ordering::Relaxed);
    ALLOCATED_BYTES.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    for _ in 0..CALLS {
        black_box(f());
    }
    COUNTING.store(false, Ordering::Relaxed);
    let count = ALLOCATIONS.load(Ordering::Relaxed) as f64 / CALLS as f64;
    let bytes = ALLOCATED_BYTES.load(Ordering::Relaxed) as f64 / CALLS as f64;
    println!("allocations {benchmark} {count:.1} {bytes:.0}");
}

const ALGORITHMS: [Algorithm; 5] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// The identity type, as in the seed example.
struct User {
    id: u64,
}

/// The registered claims, typed: the alternative to a `Map` for `claims_struct`.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Registered<'a> {
    exp: Option<f64>,
    iat: Option<f64>,
    nbf: Option<f64>,
    #[serde(borrow)]
    iss: Option<&'a str>,
    identity: Option<Value>,
}

fn name(algorithm: Algorithm) -> String {
    format!("{algorithm:?}")
}

/// The settings of a codec that signs and verifies with `algorithm` (test keys only), with the
/// verified-token cache on (its default size) or off.
fn settings(algorithm: Algorithm, cache: bool) -> Settings {
    let pem = |text: &str| Some(KeyMaterial::Pem(text.into()));
    let mut settings = Settings {
        algorithm,
        expiration_delta: Duration::from_secs(24 * 3600),
        auth_url_rule: None,
        ..Settings::default()
    };
    if !cache {
        settings.token_cache_entries = 0;
    }
    match algorithm {
        Algorithm::HS256 => settings.secret_key = Some(Secret::new(SECRET)),
        Algorithm::RS256 | Algorithm::PS256 => {
            settings.private_key = pem(RSA_PRIVATE);
            settings.public_key = pem(RSA_PUBLIC);
        }
        Algorithm::ES256 => {
            settings.private_key = pem(EC_PRIVATE);
            settings.public_key = pem(EC_PUBLIC);
        }
        Algorithm::EdDSA => {
            settings.private_key = pem(ED_PRIVATE);
            settings.public_key = pem(ED_PUBLIC);
        }
        other => unreachable!("{other:?} is not benchmarked"),
    }
    settings
}

/// The bare-jsonwebtoken baseline's key and validation, built once.
fn baseline(algorithm: Algorithm) -> (DecodingKey, Validation) {
    let key = match algorithm {
        Algorithm::HS256 => Ok(DecodingKey::from_secret(SECRET.as_bytes())),
        Algorithm::RS256 | Algorithm::PS256 => DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()),
        Algorithm::ES256 => DecodingKey::from_ec_pem(EC_PUBLIC.as_bytes()),
        _ => DecodingKey::from_ed_pem(ED_PUBLIC.as_bytes()),
    }
    .expect("test public key");
    let mut validation = Validation::new(algorithm);
    validation.leeway = 10;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "nbf"]);
    (key, validation)
}

/// The bare-jsonwebtoken baseline's signing key, built once.
fn encoding_key(algorithm: Algorithm) -> EncodingKey {
    match algorithm {
        Algorithm::HS256 => Ok(EncodingKey::from_secret(SECRET.as_bytes())),
        Algorithm::RS256 | Algorithm::PS256 => EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()),
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()),
        _ => EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()),
    }
    .expect("test private key")
}

fn identity(payload: &Payload) -> Option<User> {
    let id = payload.get("identity")?.as_u64()?;
    (id == 1 || id == 2).then_some(User { id })
}

/// `/protected` as `#[jwt_required]` expands it (the guard, then `run_sync`).
#[rocket::get("/protected")]
fn protected(auth: JwtAuth) -> Result<String, JwtResponse> {
    auth.run_sync(|| format!("User(id='{}')", current_identity::<User>().id))
}

/// The unprotected twin: the same body, no guard.
#[rocket::get("/unprotected")]
fn unprotected() -> String {
    "User(id='1')".to_string()
}

fn rocket(algorithm: Algorithm, cache: bool) -> Rocket<Build> {
    let jwt = Jwt::builder()
        .settings(settings(algorithm, cache))
        .identity_handler(identity)
        .build()
        .expect("complete Jwt configuration");
    let figment = rocket::Config::figment().merge(("log_level", "off"));
    rocket::custom(figment)
        .attach(jwt)
        .mount("/", rocket::routes![protected, unprotected])
}

/// A request to `path` with the token, as wrk sends it.
async fn get(client: &Client, path: &str, header_value: &str) -> Option<String> {
    client
        .get(path)
        .header(Header::new("Authorization", header_value.to_owned()))
        .dispatch()
        .await
        .into_string()
        .await
}

/// The guard and what `#[jwt_required]` runs after it, on a prebuilt request.
async fn guard(request: &LocalRequest<'_>) -> u64 {
    let auth: JwtAuth = JwtAuth::from_request(request)
        .await
        .succeeded()
        .expect("the benchmark's token is valid");
    auth.run_sync(|| current_identity::<User>().id)
        .expect("the fairing is attached")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    // `BENCH_ALGS="HS256 RS256"` limits the set up (and so a profile) to those algorithms.
    let selected = std::env::var("BENCH_ALGS").ok();
    for algorithm in ALGORITHMS.into_iter().filter(|algorithm| {
        selected
            .as_deref()
            .is_none_or(|names| names.split_whitespace().any(|n| n == name(*algorithm)))
    }) {
        let alg = name(algorithm);
        let codec = TokenCodec::new(settings(algorithm, false)).expect("codec");
        let cached = TokenCodec::new(settings(algorithm, true)).expect("codec");
        let token = codec
            .encode(&codec.default_payload(json!(1)), &Payload::new())
            .expect("encode");
        let header_value = format!("JWT {token}");
        let (key, validation) = baseline(algorithm);
        let (message, signature_b64) = token.rsplit_once('.').expect("three segments");
        let claims_b64 = message.split_once('.').expect("three segments").1;
        let claims = URL_SAFE_NO_PAD.decode(claims_b64).expect("claims base64");
        let prepared = VerifyKey::new(None, algorithm, &key).expect("usable key");

        // Every path must accept the token before it is timed.
        let bare = jsonwebtoken::decode::<Map<String, Value>>(&token, &key, &validation)
            .expect("jsonwebtoken accepts the token");
        assert_eq!(bare.claims["identity"], 1);
        assert_eq!(codec.decode(&token).expect("codec accepts")["identity"], 1);
        assert_eq!(cached.decode(&token).expect("codec accepts")["identity"], 1);
        assert_eq!(testing::cached_tokens(&codec), 0, "{alg}: the cache is off");
        assert_eq!(
            testing::cached_tokens(&cached),
            1,
            "{alg}: the token is cached"
        );
        assert!(
            jsonwebtoken::crypto::verify(signature_b64, message.as_bytes(), &key, algorithm)
                .expect("crypto::verify")
        );
        let prepared_verify = |message: &[u8], signature_b64: &str| {
            URL_SAFE_NO_PAD
                .decode(signature_b64)
                .is_ok_and(|signature| prepared.verify(message, &signature))
        };
        assert!(prepared_verify(message.as_bytes(), signature_b64), "{alg}");
        let clients = [false, true].map(|cache| {
            let client = rt
                .block_on(Client::untracked(rocket(algorithm, cache)))
                .expect("rocket ignites");
            for route in ["/unprotected", "/protected"] {
                let body = rt.block_on(get(&client, route, &header_value));
                assert_eq!(body.as_deref(), Some("User(id='1')"), "{alg} {route}");
            }
            client
        });
        let requests = clients.each_ref().map(|client| {
            client
                .get("/protected")
                .header(Header::new("Authorization", header_value.clone()))
        });
        for request in &requests {
            assert_eq!(rt.block_on(guard(request)), 1);
        }

        let rp = |id: &str| format!("request_path/{alg}/{id}");
        count_allocations(&rp("a_jsonwebtoken_decode"), || {
            jsonwebtoken::decode::<Map<String, Value>>(&token, &key, &validation)
        });
        count_allocations(&rp("b_codec_decode"), || codec.decode(&token));
        count_allocations(&rp("b_codec_decode_cached"), || cached.decode(&token));
        count_allocations(&rp("d_guard"), || rt.block_on(guard(&requests[0])));
        count_allocations(&rp("d_guard_cached"), || rt.block_on(guard(&requests[1])));
        for (id, path, client) in [
            ("unprotected", "/unprotected", &clients[0]),
            ("protected", "/protected", &clients[0]),
            ("protected_cached", "/protected", &clients[1]),
        ] {
            count_allocations(&format!("dispatch/{alg}/{id}"), || {
                rt.block_on(get(client, path, &header_value))
            });
        }

        let mut group = c.benchmark_group(format!("request_path/{alg}"));
        group.bench_function("a_jsonwebtoken_decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Map<String, Value>>(black_box(&token), &key, &validation)
                    .expect("valid")
            })
        });
        group.bench_function("b_codec_decode", |b| {
            b.iter(|| codec.decode(black_box(&token)).expect("valid"))
        });
        group.bench_function("b_codec_decode_cached", |b| {
            b.iter(|| cached.decode(black_box(&token)).expect("valid"))
        });
        group.bench_function("c_header_then_decode", |b| {
            b.iter(|| {
                let token = parse_authorization(black_box(&header_value), "JWT")
                    .expect("valid header")
                    .expect("a token");
                codec.decode(token).expect("valid")
            })
        });
        group.bench_function("d_guard", |b| {
            b.to_async(&rt).iter(|| guard(black_box(&requests[0])))
        });
        group.bench_function("d_guard_cached", |b| {
            b.to_async(&rt).iter(|| guard(black_box(&requests[1])))
        });
        group.finish();

        let mut group = c.benchmark_group(format!("parts/{alg}"));
        group.bench_function("parse", |b| {
            b.iter(|| testing::parse(&codec, black_box(&token)).expect("well-formed"))
        });
        group.bench_function("crypto_verify", |b| {
            b.iter(|| {
                jsonwebtoken::crypto::verify(
                    black_box(signature_b64),
                    black_box(message.as_bytes()),
                    &key,
                    algorithm,
                )
                .expect("verifier")
            })
        });
        group.bench_function("prepared_verify", |b| {
            b.iter(|| prepared_verify(black_box(message.as_bytes()), black_box(signature_b64)))
        });
        group.bench_function("claims_map", |b| {
            b.iter(|| serde_json::from_slice::<Payload>(black_box(&claims)).expect("claims"))
        });
        group.bench_function("claims_struct", |b| {
            b.iter(|| {
                serde_json::from_slice::<Registered<'_>>(black_box(&claims))
                    .expect("claims")
                    .exp
            })
        });
        let payload = codec.decode(&token).expect("valid");
        group.bench_function("payload_clone", |b| b.iter(|| black_box(&payload).clone()));
        group.bench_function("identity_arc", |b| {
            b.iter(|| {
                let identity = Identity::new(User { id: black_box(1) });
                identity.downcast::<User>().map(|user| user.id)
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("issue/{alg}"));
        let default_payload = codec.default_payload(json!(1));
        let encoding_key = encoding_key(algorithm);
        let header = jsonwebtoken::Header::new(algorithm);
        group.bench_function("a_jsonwebtoken_encode", |b| {
            b.iter(|| {
                jsonwebtoken::encode(&header, black_box(&default_payload), &encoding_key)
                    .expect("signed")
            })
        });
        group.bench_function("b_codec_encode", |b| {
            b.iter(|| {
                codec
                    .encode(black_box(&default_payload), &Payload::new())
                    .expect("signed")
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("dispatch/{alg}"));
        for (id, path, client) in [
            ("unprotected", "/unprotected", &clients[0]),
            ("protected", "/protected", &clients[0]),
            ("protected_cached", "/protected", &clients[1]),
        ] {
            group.bench_function(id, |b| {
                b.to_async(&rt)
                    .iter(|| get(client, path, black_box(&header_value)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

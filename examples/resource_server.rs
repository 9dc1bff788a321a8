//! Auth0's API quickstart as a Rocket resource server: an RS256 API that only validates tokens
//! issued elsewhere (Auth0 or any OIDC provider), with keys from a JWKS URL. No `/auth` resource,
//! no private key.
//!
//! - `GET /api/public`: no token needed;
//! - `GET /api/private`: a valid access token;
//! - `GET /api/private-scoped`: a valid access token with the `read:messages` scope (else 403
//!   `insufficient_scope`).
//!
//! Try it against the local key set in `testdata/jwks/` (see the README, "Resource server"):
//!
//! ```text
//! python3 -m http.server 8001 --bind 127.0.0.1 --directory testdata/jwks &
//! TOKEN=$(cargo run -q --example resource_server -- mint read:messages)
//! cargo run --example resource_server
//! curl -s localhost:8000/api/private-scoped -H "Authorization: Bearer $TOKEN"
//! ```
//!
//! Against an Auth0 tenant, set `AUTH0_DOMAIN=<tenant>.auth0.com` (keys and issuer follow from
//! it) and `AUTH0_AUDIENCE=<your API identifier>`; the API then also serves its RFC 9728
//! metadata at `/.well-known/oauth-protected-resource` when the identifier is an https URL.
//!
//!
//! With several trusted authorities in the configuration (`[[default.jwt.authorities]]` in
//! `Rocket.toml`, or `JWT_AUTHORITIES`), they replace the single authority: the API accepts the
//! tokens of each, checked against its own issuer, audience and keys.
//!
//! The integration tests include this file as a module (hence `pub(crate)` on [`api`],
//! [`auth0_api`] and [`mount`]): `tests/it/auth0_side_by_side.rs` answers every token beside
//! Auth0's own validator, `tests/it/issuer_tokens.rs` the tokens of every major issuer.
use rocket::serde::json::{json, Json, Value};
use rocket::{get, launch, routes};
use rocket_flask_jwt::{
    current_identity, jwt_required, settings::ProtectedResource, Algorithm, Jwt, JwtBuilder,
};

/// The caller, as the identity callback builds it from the token's `sub` claim.
#[derive(Debug)]
pub(crate) struct Caller {
    subject: String,
}

#[get("/api/public")]
fn public() -> Json<Value> {
    Json(
        json!({"message": "Hello from a public endpoint! You don't need to be authenticated to see this."}),
    )
}

#[jwt_required]
#[get("/api/private")]
fn private() -> Json<Value> {
    let caller = current_identity!(Caller);
    Json(json!({
        "message": "Hello from a private endpoint! You need to be authenticated to see this.",
        "sub": caller.subject,
    }))
}

#[jwt_required(scopes = ["read:messages"])]
#[get("/api/private-scoped")]
fn private_scoped() -> Json<Value> {
    let caller = current_identity!(Caller);
    Json(json!({
        "message": "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.",
        "sub": caller.subject,
    }))
}

/// The local try-out's issuer and audience.
const DEMO_ISSUER: &str = "https://issuer.example/";
const DEMO_AUDIENCE: &str = "https://api.example/";

/// The local try-out's key set: `testdata/jwks/jwks.json` served on port 8001.
const DEMO_JWKS_URL: &str = "http://127.0.0.1:8001/jwks.json";

/// What every configuration of the API shares: RS256 tokens in `Authorization: Bearer`, the
/// caller from `sub`. `JWT_*` environment variables and the `jwt` table of `Rocket.toml` still
/// override any of it at ignition.
pub(crate) fn api() -> JwtBuilder<Caller> {
    Jwt::builder()
        .disable_auth_url_rule()
        .algorithm(Algorithm::RS256)
        .auth_header_prefix("Bearer")
        .identity_claim("sub")
        .identity_from_claim(|sub| {
            Some(Caller {
                subject: sub.as_str()?.to_owned(),
            })
        })
}

pub(crate) fn mount(jwt: JwtBuilder<Caller>) -> rocket::Rocket<rocket::Build> {
    rocket::build()
        .attach(jwt.build().expect("the Jwt configuration is complete"))
        .mount("/", routes![public, private, private_scoped])
}

/// The local try-out: keys from `jwks_url`, the demo issuer and audience.
fn app(jwks_url: &str) -> rocket::Rocket<rocket::Build> {
    mount(
        api()
            .jwks_url(jwks_url)
            .issuer(DEMO_ISSUER)
            .audience([DEMO_AUDIENCE]),
    )
}

/// An Auth0 tenant: `domain` (`tenant.auth0.com`) is the authority (keys and issuer), `audience`
/// the API identifier. An https identifier is also the resource of the RFC 9728 metadata.
pub(crate) fn auth0_api(domain: &str, audience: &str) -> JwtBuilder<Caller> {
    let authority = format!("https://{}/", domain.trim_end_matches('/'));
    let mut jwt = api().authority(&authority).audience([audience]);
    let metadata = ProtectedResource {
        authorization_servers: vec![authority],
        scopes_supported: vec!["read:messages".into()],
        ..ProtectedResource::new(audience)
    };
    if metadata.document_url().is_some() {
        jwt = jwt.protected_resource(metadata);
    }
    jwt
}

/// `mint [scope ...]`: a demo token signed with the test key of `testdata/keys` (never a real
/// key), carrying the scopes given.
fn mint(scopes: &[String]) -> String {
    let key = include_str!("../testdata/keys/rsa_private.pem");
    let codec = rocket_flask_jwt::validation::TokenCodec::new(rocket_flask_jwt::Settings {
        algorithm: Algorithm::RS256,
        private_key: Some(rocket_flask_jwt::settings::KeyMaterial::Pem(key.into())),
        public_key: Some(rocket_flask_jwt::settings::KeyMaterial::Pem(
            include_str!("../testdata/keys/rsa_public.pem").into(),
        )),
        expiration_delta: std::time::Duration::from_secs(3600),
        identity_claim: "sub".into(),
        ..Default::default()
    })
    .expect("the test key parses");
    let mut claims = codec.default_payload("auth0|demo-user".into());
    claims.insert("iss".into(), DEMO_ISSUER.into());
    claims.insert("aud".into(), DEMO_AUDIENCE.into());
    if !scopes.is_empty() {
        claims.insert("scope".into(), scopes.join(" ").into());
    }
    let mut header = rocket_flask_jwt::Payload::new();
    header.insert("kid".into(), "rsa-1".into());
    codec
        .encode(&claims, &header)
        .expect("signing with the test key")
}

/// Whether the configuration names several trusted authorities: the `authorities` of the `jwt`
/// table of Rocket's configuration (`Rocket.toml`, `ROCKET_JWT`), or `JWT_AUTHORITIES`.
pub(crate) fn authorities_configured(figment: &rocket::figment::Figment) -> bool {
    figment.find_value("jwt.authorities").is_ok() || std::env::var_os("JWT_AUTHORITIES").is_some()
}

#[launch]
fn rocket() -> _ {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("mint") {
        println!("{}", mint(&args[1..]));
        std::process::exit(0);
    }
    match (
        std::env::var("AUTH0_DOMAIN"),
        std::env::var("AUTH0_AUDIENCE"),
    ) {
        _ if authorities_configured(&rocket::Config::figment()) => mount(api()),
        (Ok(domain), Ok(audience)) => mount(auth0_api(&domain, &audience)),
        (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
            eprintln!("set both AUTH0_DOMAIN and AUTH0_AUDIENCE, or neither for the local try-out");
            std::process::exit(2);
        }
        (Err(_), Err(_)) => app(DEMO_JWKS_URL),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;

    use rocket::http::{Header, Status};
    use rocket::local::blocking::Client;
    use rocket::serde::json::Value;

    /// `testdata/jwks/jwks.json` served over HTTP on 127.0.0.1, as `python3 -m http.server` does
    /// in the try-out; stops when dropped.
    struct KeySetServer {
        port: u16,
        stop: Arc<AtomicBool>,
        hits: Arc<AtomicUsize>,
        thread: Option<JoinHandle<()>>,
    }

    impl KeySetServer {
        fn start() -> KeySetServer {
            let body = include_str!("../testdata/jwks/jwks.json");
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            let port = listener.local_addr().expect("local address").port();
            let stop = Arc::new(AtomicBool::new(false));
            let hits = Arc::new(AtomicUsize::new(0));
            let (stopping, counting) = (Arc::clone(&stop), Arc::clone(&hits));
            let thread = std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        counting.fetch_add(1, Ordering::SeqCst);
                        answer(stream, body);
                    }
                }
            });
            KeySetServer {
                port,
                stop,
                hits,
                thread: Some(thread),
            }
        }

        fn url(&self) -> String {
            format!("http://127.0.0.1:{}/jwks.json", self.port)
        }
    }

    /// Reads the request head, then answers `/jwks.json` with the key set and anything else 404.
    fn answer(mut stream: TcpStream, body: &str) {
        let mut head = Vec::new();
        let mut buffer = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buffer[..n]),
            }
        }
        let found = head.starts_with(b"GET /jwks.json ");
        let (status, body) = if found {
            ("200 OK", body)
        } else {
            ("404 Not Found", "")
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes());
    }

    impl Drop for KeySetServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            // Wakes the accept loop so that it sees the flag.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    #[test]
    fn the_try_out_with_a_minted_token() {
        let server = KeySetServer::start();
        let client = Client::tracked(super::app(&server.url())).expect("valid rocket");
        assert_eq!(
            server.hits.load(Ordering::SeqCst),
            1,
            "keys fetched at ignition"
        );

        let response = client.get("/api/public").dispatch();
        assert_eq!(response.status(), Status::Ok);
        let body: Value = response.into_json().expect("json");
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Hello from a public endpoint!")));

        let token = super::mint(&[]);
        let response = client
            .get("/api/private")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch();
        assert_eq!(response.status(), Status::Ok);
        let body: Value = response.into_json().expect("json");
        assert_eq!(body["sub"], "auth0|demo-user");
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Hello from a private endpoint!")));

        let response = client.get("/api/private").dispatch();
        assert_eq!(response.status(), Status::Unauthorized);
        assert_eq!(
            response.headers().get_one("WWW-Authenticate"),
            Some(r#"Bearer realm="Login Required""#)
        );
        let body: Value = response.into_json().expect("json");
        assert_eq!(
            body["description"],
            "Request does not contain an access token"
        );

        // A tampered signature is refused.
        let (message, signature) = token.rsplit_once('.').expect("three segments");
        let flipped = if signature.as_bytes()[10] == b'A' {
            "B"
        } else {
            "A"
        };
        let tampered = format!(
            "{message}.{}{flipped}{}",
            &signature[..10],
            &signature[11..]
        );
        let response = client
            .get("/api/private")
            .header(Header::new("Authorization", format!("Bearer {tampered}")))
            .dispatch();
        assert_eq!(response.status(), Status::Unauthorized);
        let body: Value = response.into_json().expect("json");
        assert_eq!(body["description"], "Signature verification failed");
        assert_eq!(server.hits.load(Ordering::SeqCst), 1, "keys are cached");
    }

    #[test]
    fn the_scoped_route_needs_read_messages() {
        let server = KeySetServer::start();
        let client = Client::tracked(super::app(&server.url())).expect("valid rocket");
        let bearer = |token: String| Header::new("Authorization", format!("Bearer {token}"));

        let scoped = super::mint(&["openid".into(), "read:messages".into()]);
        let response = client
            .get("/api/private-scoped")
            .header(bearer(scoped.clone()))
            .dispatch();
        assert_eq!(response.status(), Status::Ok);
        let body: Value = response.into_json().expect("json");
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.contains("have a scope of read:messages")));

        let unscoped = super::mint(&[]);
        let response = client
            .get("/api/private-scoped")
            .header(bearer(unscoped.clone()))
            .dispatch();
        assert_eq!(response.status(), Status::Forbidden);
        assert_eq!(
            response.headers().get_one("WWW-Authenticate"),
            Some(r#"Bearer error="insufficient_scope", scope="read:messages""#)
        );
        let response = client
            .get("/api/private")
            .header(bearer(unscoped))
            .dispatch();
        assert_eq!(response.status(), Status::Ok, "no scope needed");

        let response = client.get("/api/private-scoped").dispatch();
        assert_eq!(response.status(), Status::Unauthorized);
    }

    #[test]
    fn an_auth0_tenant_with_an_https_identifier_serves_its_metadata() {
        // The tenant's configuration, its keys served locally in place of the tenant's. The
        // identifier's path follows the well-known path.
        let server = KeySetServer::start();
        let jwt =
            super::auth0_api("tenant.invalid", "https://quickstarts/api").jwks_url(server.url());
        let client = Client::tracked(super::mount(jwt)).expect("valid rocket");
        let response = client
            .get("/.well-known/oauth-protected-resource/api")
            .dispatch();
        assert_eq!(response.status(), Status::Ok);
        let body: Value = response.into_json().expect("json");
        assert_eq!(body["resource"], "https://quickstarts/api");
        assert_eq!(body["authorization_servers"][0], "https://tenant.invalid/");
        assert_eq!(body["scopes_supported"][0], "read:messages");
        let response = client.get("/api/private").dispatch();
        assert_eq!(
            response.headers().get_one("WWW-Authenticate"),
            Some(
                r#"Bearer realm="Login Required", resource_metadata="https://quickstarts/.well-known/oauth-protected-resource/api""#
            )
        );
    }
}

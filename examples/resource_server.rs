//! A resource server: an RS256 API that only validates tokens issued elsewhere (Auth0 or any
//! OIDC provider), with keys from a JWKS URL. No `/auth` resource, no private key.
//!
//! Try it against the local key set in `testdata/jwks/` (see the README, "Resource server"):
//!
//! ```text
//! python3 -m http.server 8001 --bind 127.0.0.1 --directory testdata/jwks &
//! TOKEN=$(cargo run -q --example resource_server -- mint)
//! cargo run --example resource_server
//! curl -s localhost:8000/api/private -H "Authorization: Bearer $TOKEN"
//! ```
//!
//! Against Auth0, set `JWT_AUTHORITY=https://<tenant>.auth0.com/` (keys and issuer follow from it)
//! and `JWT_AUDIENCE=<your API identifier>`.
#[macro_use]
extern crate rocket;

use rocket::serde::json::{json, Json, Value};
use rocket_flask_jwt::{current_identity, jwt_required, Algorithm, Jwt};

/// The caller, as the identity callback builds it from the token's `sub` claim.
#[derive(Debug)]
struct Caller {
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

/// The local try-out's issuer and audience; `JWT_*` variables override them.
const DEMO_ISSUER: &str = "https://issuer.example/";
const DEMO_AUDIENCE: &str = "https://api.example/";

/// The local try-out's key set: `testdata/jwks/jwks.json` served on port 8001.
const DEMO_JWKS_URL: &str = "http://127.0.0.1:8001/jwks.json";

/// The API, taking its keys from `jwks_url`.
fn app(jwks_url: &str) -> rocket::Rocket<rocket::Build> {
    let jwt = Jwt::builder()
        .disable_auth_url_rule()
        .algorithm(Algorithm::RS256)
        .auth_header_prefix("Bearer")
        .jwks_url(jwks_url)
        .issuer(DEMO_ISSUER)
        .audience([DEMO_AUDIENCE])
        .identity_claim("sub")
        .identity_from_claim(|sub| {
            Some(Caller {
                subject: sub.as_str()?.to_owned(),
            })
        })
        .build()
        .expect("the Jwt configuration is complete");
    rocket::build()
        .attach(jwt)
        .mount("/", routes![public, private])
}

/// `mint`: a demo token signed with the test key of `testdata/keys` (never a real key).
fn mint() -> String {
    let key = include_str!("../testdata/keys/rsa_private.pem");
    let codec = rocket_flask_jwt::TokenCodec::new(rocket_flask_jwt::Settings {
        algorithm: Algorithm::RS256,
        private_key: Some(rocket_flask_jwt::KeyMaterial::Pem(key.into())),
        public_key: Some(rocket_flask_jwt::KeyMaterial::Pem(
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
    let mut header = rocket_flask_jwt::Payload::new();
    header.insert("kid".into(), "rsa-1".into());
    codec
        .encode(&claims, &header)
        .expect("signing with the test key")
}

#[launch]
fn rocket() -> _ {
    if std::env::args().nth(1).as_deref() == Some("mint") {
        println!("{}", mint());
        std::process::exit(0);
    }
    app(DEMO_JWKS_URL)
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

        let token = super::mint();
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
}

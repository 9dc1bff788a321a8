//! Callbacks that may block: the `_blocking` forms run the callback off Rocket's async workers, so
//! that a slow synchronous lookup holds up its own request only, which a Rocket served for real
//! with one worker shows (and, in contrast, the stall of the plain form, which must not block);
//! each `_async` and `_blocking` form answers as its plain form does.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rocket::fairing::AdHoc;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;
use rocket::serde::json::Value;
use rocket::{get, routes, Build, Rocket, Shutdown};
use rocket_flask_jwt::{
    extended::JwtManager, extended::TokenType, Jwt, JwtBuilder, JwtResponse, Payload,
};
use serde_json::json;

use crate::common::{self, joe, User, SECRET};

// ===== A slow lookup on a server of one worker ===================================================

/// How long the slow identity lookup blocks at least: a database that answers slowly.
const SLOW: Duration = Duration::from_millis(400);
/// How long anything the test waits for may take before the test gives up (only reached when
/// the library is broken, never on a slow machine that works).
const PATIENCE: Duration = Duration::from_secs(20);

/// A Rocket served on 127.0.0.1 by a runtime of **one** async worker (Rocket's `workers = 1`),
/// on its own thread. [`rocket::execute`] reads `workers` from the environment's configuration,
/// not from the Rocket's, so the runtime is built here as `execute` builds it. Dropping it shuts
/// the server down.
struct OneWorker {
    port: u16,
    shutdown: Shutdown,
    thread: Option<JoinHandle<()>>,
}

impl OneWorker {
    fn launch(rocket: Rocket<Build>) -> OneWorker {
        let figment = rocket
            .figment()
            .clone()
            .merge(("address", Ipv4Addr::LOCALHOST))
            .merge(("port", 0))
            .merge(("workers", 1))
            .merge(("shutdown.ctrlc", false))
            .merge(("shutdown.signals", Vec::<String>::new()))
            .merge(("shutdown.grace", 0))
            .merge(("shutdown.mercy", 0));
        let (listening_tx, listening_rx) = mpsc::channel();
        let rocket =
            rocket
                .configure(figment)
                .attach(AdHoc::on_liftoff("Report the port", move |rocket| {
                    Box::pin(async move {
                        let _ = listening_tx.send((rocket.config().port, rocket.shutdown()));
                    })
                }));
        let thread = std::thread::spawn(move || {
            let runtime = rocket::tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("one-rocket-worker")
                .enable_all()
                .build()
                .expect("a runtime of one worker");
            if let Err(error) = runtime.block_on(rocket.launch()) {
                eprintln!("the Rocket did not launch: {error}");
            }
        });
        let (port, shutdown) = listening_rx
            .recv_timeout(PATIENCE)
            .expect("the Rocket listens (see stderr otherwise)");
        OneWorker {
            port,
            shutdown,
            thread: Some(thread),
        }
    }
}

impl Drop for OneWorker {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `GET path` over a connection of its own; `sent` is told once the request is written. The
/// answer's status and when it was read in full.
fn get_over_http(
    port: u16,
    path: &str,
    authorization: Option<&str>,
    sent: mpsc::Sender<Instant>,
) -> (u16, Instant) {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("the Rocket accepts");
    stream.set_read_timeout(Some(PATIENCE)).expect("a timeout");
    let authorization = authorization
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{authorization}\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .expect("the request is written");
    let _ = sent.send(Instant::now());
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer in time");
    let done = Instant::now();
    let status = String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP answer: {:?}", String::from_utf8_lossy(&answer)));
    (status, done)
}

/// An identity lookup that blocks its thread, as a synchronous database driver does, until the
/// test releases it (at the latest after [`PATIENCE`]); it tells the test when it starts.
fn slow_identity(
    started: mpsc::Sender<Instant>,
    release: mpsc::Receiver<()>,
) -> impl Fn(&Payload) -> Option<User> + Send + Sync + 'static {
    let started = Mutex::new(started);
    let release = Mutex::new(release);
    move |payload| {
        let _ = started.lock().expect("not poisoned").send(Instant::now());
        let _ = release.lock().expect("not poisoned").recv_timeout(PATIENCE);
        (payload.get("identity")? == 1).then(joe)
    }
}

#[get("/open")]
fn open() -> &'static str {
    "open"
}

/// What was seen of two requests to a one-worker server: the first, to `/protected`, whose
/// identity lookup blocks; the second, to the unprotected `/open`, sent while it blocks.
#[derive(Debug)]
struct Seen {
    /// The first request's status, and how long it took (written to answered).
    first: (u16, Duration),
    /// The second request's status, and how long it took.
    second: (u16, Duration),
    /// Whether the second was answered while the lookup was still blocked.
    second_answered_during_the_lookup: bool,
}

/// How the slow lookup is given to the builder.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    /// `identity_handler`: on the async worker.
    Plain,
    /// `identity_handler_blocking`: off the workers.
    Blocking,
}

/// Serves `/protected` (its identity lookup [`slow_identity`], given in `form`) and `/open` with
/// one worker; sends the first request, then, once the lookup has started, the second.
///
/// The lookup is released [`SLOW`] after it started at the earliest. With the blocking form,
/// the test waits for the second answer first (up to [`PATIENCE`]): a free server answers it
/// while the lookup blocks, however loaded the machine. With the plain form, it waits [`SLOW`]
/// after the second request was written: a stalled server cannot answer it meanwhile.
fn two_requests(form: Form) -> Seen {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let lookup = slow_identity(started_tx, release_rx);
    let builder = Jwt::builder().disable_auth_url_rule();
    let jwt = match form {
        Form::Plain => builder.identity_handler(lookup),
        Form::Blocking => builder.identity_handler_blocking(lookup),
    }
    .build()
    .expect("builds");
    let rocket = common::with_test_secret(rocket::custom(rocket::Config::debug_default()))
        .attach(jwt)
        .mount("/", routes![common::protected, open]);
    let server = OneWorker::launch(rocket);
    let port = server.port;
    let token = format!("JWT {}", common::token_for(&common::claims(json!(1))));

    let (first_sent_tx, first_sent_rx) = mpsc::channel();
    let first =
        std::thread::spawn(move || get_over_http(port, "/protected", Some(&token), first_sent_tx));
    let first_sent = first_sent_rx.recv_timeout(PATIENCE).expect("written");
    let lookup_started = started_rx
        .recv_timeout(PATIENCE)
        .expect("the lookup starts");

    let (second_sent_tx, second_sent_rx) = mpsc::channel();
    let (second_done_tx, second_done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = second_done_tx.send(get_over_http(port, "/open", None, second_sent_tx));
    });
    let second_sent = second_sent_rx.recv_timeout(PATIENCE).expect("written");
    let wait = match form {
        Form::Blocking => PATIENCE,
        Form::Plain => SLOW,
    };
    let during_the_lookup = match second_done_rx.recv_timeout(wait) {
        Ok(done) => Some(done),
        Err(RecvTimeoutError::Timeout) => None,
        Err(RecvTimeoutError::Disconnected) => panic!("the second request failed"),
    };
    std::thread::sleep((lookup_started + SLOW).saturating_duration_since(Instant::now()));
    release_tx.send(()).expect("the lookup waits");

    let (first_status, first_done) = first.join().expect("the first request is answered");
    let second_answered_during_the_lookup = during_the_lookup.is_some();
    let (second_status, second_done) = match during_the_lookup {
        Some(done) => done,
        None => second_done_rx
            .recv_timeout(PATIENCE)
            .expect("the second request is answered"),
    };
    drop(server);
    Seen {
        first: (first_status, first_done - first_sent),
        second: (second_status, second_done - second_sent),
        second_answered_during_the_lookup,
    }
}

#[test]
fn a_blocking_identity_lookup_given_as_blocking_does_not_stall_a_one_worker_server() {
    let seen = two_requests(Form::Blocking);
    eprintln!("identity_handler_blocking, one worker: {seen:?}");
    assert_eq!((seen.first.0, seen.second.0), (200, 200), "{seen:?}");
    assert!(seen.second_answered_during_the_lookup, "{seen:?}");
    assert!(seen.first.1 >= SLOW, "{seen:?}");
    assert!(seen.second.1 < seen.first.1, "{seen:?}");
}

#[test]
fn a_blocking_identity_lookup_given_as_plain_stalls_a_one_worker_server() {
    let seen = two_requests(Form::Plain);
    eprintln!("identity_handler, one worker: {seen:?}");
    assert_eq!((seen.first.0, seen.second.0), (200, 200), "{seen:?}");
    // The second request waited for the lookup: the one worker was blocked in it.
    assert!(!seen.second_answered_during_the_lookup, "{seen:?}");
    assert!(seen.second.1 >= SLOW, "{seen:?}");
}

// ===== Each form answers as its plain form =======================================================

/// The claims (or, with `0`, the header) of `token`, read without any check.
fn part(token: &str, index: usize) -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let segment = token.split('.').nth(index).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
}

fn payload(value: Value) -> Payload {
    value.as_object().expect("an object").clone()
}

/// Flask-JWT's fixture with its login and identity callbacks in their blocking forms (the
/// identity by payload, then by claim) and a blocking payload handler.
fn flask_jwt_blocking(identity_by_claim: bool) -> Client {
    let builder = Jwt::builder()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .authentication_handler_blocking(|username, password| {
            (username == "joe" && password == "pass").then(joe)
        });
    let builder = if identity_by_claim {
        builder.identity_from_claim_blocking(|identity| (*identity == 1).then(joe))
    } else {
        builder.identity_handler_blocking(|payload| (payload.get("identity")? == 1).then(joe))
    };
    let jwt = builder
        .payload_handler_blocking(|user, _settings| {
            let now = common::now();
            payload(json!({
                "identity": user.id, "iat": now, "nbf": now, "exp": now + 300, "blocking": true,
            }))
        })
        .build()
        .expect("builds");
    common::client_with(jwt)
}

#[test]
fn the_blocking_login_identity_and_payload_callbacks_answer_as_the_plain_ones() {
    for identity_by_claim in [false, true] {
        let client = flask_jwt_blocking(identity_by_claim);
        let token = common::login(&client);
        assert_eq!(part(&token, 1)["blocking"], true);
        for _cache_miss_then_hit in 0..2 {
            let response = common::get_with(&client, "/protected", Some(&format!("JWT {token}")));
            assert_eq!(response.status(), Status::Ok);
            assert_eq!(response.into_string().as_deref(), Some("success"));
        }
        let stranger = common::token_for(&common::claims(json!(99)));
        common::assert_error(
            common::get_with(&client, "/protected", Some(&format!("JWT {stranger}"))),
            401,
            "Invalid JWT",
            "User does not exist",
        );
        common::assert_error(
            common::post_auth(&client, r#"{"username":"joe","password":"wrong"}"#),
            401,
            "Bad Request",
            "Invalid credentials",
        );
    }
}

#[test]
fn a_panicking_blocking_identity_lookup_answers_500_and_the_next_request_is_served() {
    let jwt = Jwt::builder()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .disable_auth_url_rule()
        .identity_handler_blocking(|payload| match payload.get("identity") {
            Some(identity) if *identity == 3 => panic!("the database driver failed"),
            identity => (identity? == 1).then(joe),
        })
        .build()
        .expect("builds");
    let client = common::client_with(jwt);
    let panicking = common::token_for(&common::claims(json!(3)));
    common::assert_error(
        common::get_with(&client, "/protected", Some(&format!("JWT {panicking}"))),
        500,
        "Internal Server Error",
        "a callback failed",
    );
    let good = common::token_for(&common::claims(json!(1)));
    let response = common::get_with(&client, "/protected", Some(&format!("JWT {good}")));
    assert_eq!(response.status(), Status::Ok);
}

#[test]
fn the_async_and_blocking_auth_request_handlers_answer_the_auth_resource() {
    let answer = |form: &str, body: &Value| {
        JwtResponse::json(Status::Ok, &json!({"form": form, "user": body["username"]}))
    };
    let builders = [
        common::builder()
            .auth_request_handler_async(move |body| async move { Ok(answer("async", &body)) }),
        common::builder().auth_request_handler_blocking(move |body| Ok(answer("blocking", body))),
    ];
    for (builder, form) in builders.into_iter().zip(["async", "blocking"]) {
        let client = common::client_with(builder.build().expect("builds"));
        let response = common::post_auth(&client, r#"{"username":"joe"}"#);
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(
            response.into_json::<Value>(),
            Some(json!({"form": form, "user": "joe"}))
        );
    }
}

/// `sub` of the request's token.
#[rocket_flask_jwt::jwt_required]
#[get("/sub")]
fn sub() -> String {
    rocket_flask_jwt::identity::get_jwt_identity()
        .map(|sub| sub.to_string())
        .unwrap_or_default()
}

/// An access token for `sub`, from `JwtManager`.
#[get("/issue/<sub>")]
fn issue(sub: &str, manager: JwtManager<'_>) -> Result<String, JwtResponse> {
    Ok(manager.create(sub, TokenType::Access, false.into(), Payload::new())?)
}

/// Gives the token verification loader in one of its forms.
type Verification = fn(JwtBuilder<()>) -> JwtBuilder<()>;

/// The extended profile with its claims loaders in their blocking forms, and the token
/// verification loader given by `verification` (it refuses `sub == "refused"`).
fn extended_app(verification: Verification) -> Client {
    let builder = Jwt::builder()
        .extended()
        .secret_key(SECRET)
        .allow_short_secret(true)
        .additional_claims_loader_blocking(|identity| payload(json!({"role": identity})))
        .additional_headers_loader_blocking(|identity| {
            payload(json!({"kid": format!("key-of-{}", identity.as_str().unwrap_or_default())}))
        });
    let jwt = verification(builder).build().expect("builds");
    let rocket = rocket::custom(rocket::Config::debug_default())
        .attach(jwt)
        .mount("/", routes![sub, issue]);
    Client::tracked(rocket).expect("ignites")
}

fn not_refused(claims: &Payload) -> bool {
    claims.get("sub") != Some(&json!("refused"))
}

#[test]
fn the_blocking_claims_loaders_and_the_async_and_blocking_verification_loaders_answer_as_the_plain_ones(
) {
    let forms: [(&str, Verification); 3] = [
        ("plain", |b| {
            b.token_verification_loader(|_, claims| not_refused(claims))
        }),
        ("async", |b| {
            b.token_verification_loader_async(|_, claims| async move {
                rocket::tokio::task::yield_now().await;
                not_refused(&claims)
            })
        }),
        ("blocking", |b| {
            b.token_verification_loader_blocking(|_, claims| not_refused(claims))
        }),
    ];
    for (form, verification) in forms {
        let client = extended_app(verification);
        let issue = |sub: &str| {
            let response = client.get(format!("/issue/{sub}")).dispatch();
            assert_eq!(response.status(), Status::Ok, "{form}");
            response.into_string().expect("a token")
        };
        let accepted = issue("user1");
        assert_eq!(part(&accepted, 1)["role"], "user1", "{form}");
        assert_eq!(part(&accepted, 0)["kid"], "key-of-user1", "{form}");
        let refused = issue("refused");
        for _cache_miss_then_hit in 0..2 {
            let bearer = |token: &str| Header::new("Authorization", format!("Bearer {token}"));
            let response = client.get("/sub").header(bearer(&accepted)).dispatch();
            assert_eq!(response.status(), Status::Ok, "{form}");
            assert_eq!(
                response.into_string().as_deref(),
                Some("\"user1\""),
                "{form}"
            );
            let response = client.get("/sub").header(bearer(&refused)).dispatch();
            assert_eq!(response.status(), Status::BadRequest, "{form}");
            assert_eq!(response.content_type(), Some(ContentType::JSON), "{form}");
            assert_eq!(
                response.into_json::<Value>(),
                Some(json!({"msg": "User claims verification failed"})),
                "{form}"
            );
        }
    }
}

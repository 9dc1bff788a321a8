//! Flask-JWT's minimal application, ported.
//!
//! ```text
//! JWT_SECRET_KEY=$(openssl rand -base64 32) cargo run --example seed
//! curl -s -X POST localhost:8000/auth -H 'Content-Type: application/json' \
//!      -d '{"username": "user1", "password": "abcxyz"}'
//! curl -s localhost:8000/protected -H "Authorization: JWT <access_token>"
//! ```
#[macro_use]
extern crate rocket;

use std::fmt;

use rocket::serde::Serialize;
use rocket_flask_jwt::{current_identity, jwt_required, Jwt, Payload};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Serialize)]
#[serde(crate = "rocket::serde")]
struct User {
    id: u64,
    username: &'static str,
    #[serde(skip)]
    password: &'static str,
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "User(id='{}')", self.id)
    }
}

const USERS: [User; 2] = [
    User {
        id: 1,
        username: "user1",
        password: "abcxyz",
    },
    User {
        id: 2,
        username: "user2",
        password: "abcxyz",
    },
];

/// `authenticate(username, password)`: the user, when the password matches (compared in
/// constant time).
fn authenticate(username: &str, password: &str) -> Option<User> {
    let user = USERS.iter().find(|user| user.username == username)?;
    bool::from(user.password.as_bytes().ct_eq(password.as_bytes())).then(|| user.clone())
}

/// `identity(payload)`: the user whose id is the token's `identity` claim.
fn identity(payload: &Payload) -> Option<User> {
    let id = payload.get("identity")?.as_u64()?;
    USERS.iter().find(|user| user.id == id).cloned()
}

#[jwt_required]
#[get("/protected")]
fn protected() -> String {
    format!("{}", current_identity!(User))
}

/// The unprotected twin of `/protected`: the same body (`User(id='1')`), no token needed. The
/// load benchmark (`scripts/bench-load.sh`) compares the two routes.
#[get("/unprotected")]
fn unprotected() -> String {
    format!("{}", USERS[0])
}

#[launch]
fn rocket() -> _ {
    // The secret comes from `JWT_SECRET_KEY` or the `jwt` table of `Rocket.toml`, never from
    // the code.
    let jwt = Jwt::builder()
        .authentication_handler(authenticate)
        .identity_handler(identity)
        .build()
        .expect("the Jwt configuration is complete");
    rocket::build()
        .attach(jwt)
        .mount("/", routes![protected, unprotected])
}

#[cfg(test)]
mod tests {
    use rocket::http::{ContentType, Header, Status};
    use rocket::local::blocking::Client;
    use rocket::{Build, Config, Rocket};

    /// `rocket` with a secret in its configuration, as `JWT_SECRET_KEY` or `Rocket.toml` gives
    /// it (a test value, never a real one).
    pub(crate) fn configured(rocket: Rocket<Build>) -> Rocket<Build> {
        let secret = "a-test-secret-of-more-than-32-bytes";
        rocket.configure(Config::figment().merge(("jwt.secret_key", secret)))
    }

    #[test]
    fn the_readme_walk_through() {
        let client = Client::tracked(configured(super::rocket())).expect("valid rocket");
        assert_walk_through(&client);
    }

    #[test]
    fn without_a_secret_it_does_not_start() {
        // Inspecting the error's kind is what keeps Rocket from panicking when it is dropped.
        let error = Client::tracked(super::rocket())
            .err()
            .map(|e| format!("{:?}", e.kind()));
        assert!(
            error
                .as_deref()
                .is_some_and(|kind| kind.contains("FailedFairings")),
            "ignition must fail without JWT_SECRET_KEY: {error:?}"
        );
    }

    /// The README's walk-through: log in as user1, call `/protected` with the token; a wrong
    /// password is refused.
    pub(crate) fn assert_walk_through(client: &Client) {
        let response = client
            .post("/auth")
            .header(ContentType::JSON)
            .body(r#"{"username": "user1", "password": "abcxyz"}"#)
            .dispatch();
        assert_eq!(response.status(), Status::Ok);
        let body: serde_json::Value = response.into_json().expect("json");
        let token = body["access_token"].as_str().expect("access_token");
        let response = client
            .get("/protected")
            .header(Header::new("Authorization", format!("JWT {token}")))
            .dispatch();
        assert_eq!(response.into_string().as_deref(), Some("User(id='1')"));

        let response = client
            .post("/auth")
            .header(ContentType::JSON)
            .body(r#"{"username": "user2", "password": "wrong"}"#)
            .dispatch();
        assert_eq!(response.status(), Status::Unauthorized);
    }

    #[test]
    fn the_unprotected_twin_needs_no_token() {
        let client = Client::tracked(configured(super::rocket())).expect("valid rocket");
        let response = client.get("/unprotected").dispatch();
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(response.into_string().as_deref(), Some("User(id='1')"));
    }
}

/// The README's minimal application, which the README shows verbatim ("The minimal
/// application"): compiled here so that it is started and walked through like this example.
#[cfg(test)]
#[allow(dead_code)] // the `main` that `#[launch]` writes is not this example's
mod readme_minimal_app {
    include!("readme/minimal_app.rs");

    #[test]
    fn the_readme_shows_this_program_and_it_serves_the_walk_through() {
        let readme = include_str!("../README.md");
        let program = include_str!("readme/minimal_app.rs");
        assert!(
            readme.contains(&format!("```rust\n{program}```\n")),
            "the README's minimal application differs from examples/readme/minimal_app.rs"
        );
        let client = rocket::local::blocking::Client::tracked(super::tests::configured(rocket()))
            .expect("the README's minimal application starts");
        super::tests::assert_walk_through(&client);
    }
}

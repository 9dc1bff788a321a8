use rocket::{get, launch, routes};
use rocket_flask_jwt::{current_identity, jwt_required, Jwt, Payload};

#[derive(Clone, rocket::serde::Serialize)]
#[serde(crate = "rocket::serde")]
struct User {
    id: u64,
    username: &'static str,
}

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "User(id='{}')", self.id)
    }
}

const USER1: User = User {
    id: 1,
    username: "user1",
};

/// Flask-JWT's `authenticate(username, password)`. A real application looks the user up in its
/// store and compares a password hash.
fn authenticate(username: &str, password: &str) -> Option<User> {
    (username == USER1.username && password == "abcxyz").then_some(USER1)
}

/// Flask-JWT's `identity(payload)`: the user whose id is the token's `identity` claim.
fn identity(payload: &Payload) -> Option<User> {
    (payload.get("identity")?.as_u64()? == USER1.id).then_some(USER1)
}

#[jwt_required]
#[get("/protected")]
fn protected() -> String {
    format!("{}", current_identity!(User))
}

#[launch]
fn rocket() -> _ {
    // The secret is not in the code: Rocket reads it at start-up from `JWT_SECRET_KEY` or the
    // `jwt` table of `Rocket.toml` (`secret_key`), and refuses to start without one.
    let jwt = Jwt::builder()
        .authentication_handler(authenticate)
        .identity_handler(identity)
        .build()
        .expect("the Jwt configuration is complete");
    rocket::build().attach(jwt).mount("/", routes![protected])
}

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
    let jwt = Jwt::builder()
        // Flask-JWT's example secret, kept so that tokens stay valid on both sides during a
        // migration. At 12 bytes it is shorter than the 32 HS256 needs, so it is refused at
        // start-up unless allowed explicitly (with a warning at every start). A new application
        // sets a random secret of 32+ bytes (JWT_SECRET_KEY overrides the code) and no
        // `allow_short_secret`.
        .secret_key("super-secret")
        .allow_short_secret(true)
        .authentication_handler(authenticate)
        .identity_handler(identity)
        .build()
        .expect("the Jwt configuration is complete");
    rocket::build().attach(jwt).mount("/", routes![protected])
}

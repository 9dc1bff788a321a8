//! rocket-jwt 0.5.2 as its README shows it: `#[jwt(SECRET_KEY)]` on the claims struct, the struct
//! as the handler's guard. The crate is HS256 only (its guard decodes with `Validation::default()`
//! and `DecodingKey::from_secret`), and reads the struct from a `user` claim: `mint`'s token
//! carries `"user": {"sub": ...}` besides the claims the other contenders read.
#[macro_use]
extern crate rocket;

use rocket_jwt::jwt;

static SECRET_KEY: &str = peers::SECRET;

#[jwt(SECRET_KEY)]
pub struct UserClaim {
    sub: String,
}

#[get("/protected")]
fn protected(user: UserClaim) -> String {
    peers::body(&user.sub)
}

#[launch]
fn rocket() -> _ {
    assert_eq!(
        peers::alg(),
        peers::Alg::HS256,
        "rocket-jwt 0.5.2 verifies HS256 only"
    );
    rocket::build().mount("/", routes![protected, peers::unprotected])
}

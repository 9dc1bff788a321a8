#[macro_use]
extern crate rocket;

use rocket_flask_jwt_macros::jwt_required;

#[jwt_required(dpop = Required)]
#[get("/")]
fn protected() -> &'static str {
    "secret"
}

fn main() {
    let _ = rocket::build().mount("/", routes![protected]);
}

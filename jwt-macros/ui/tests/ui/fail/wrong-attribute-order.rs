#[macro_use]
extern crate rocket;

use rocket_flask_jwt_macros::jwt_required;

#[get("/")]
#[jwt_required]
fn protected() -> &'static str {
    "secret"
}

fn main() {
    let _ = rocket::build().mount("/", routes![protected]);
}

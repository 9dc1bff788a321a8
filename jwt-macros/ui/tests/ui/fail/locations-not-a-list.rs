#[macro_use]
extern crate rocket;

use rocket_flask_jwt_macros::jwt_required;

const TOKEN_LOCATIONS: [&'static str; 1] = ["headers"];

#[jwt_required(locations = TOKEN_LOCATIONS)]
#[get("/")]
fn protected() -> &'static str {
    TOKEN_LOCATIONS[0]
}

fn main() {
    let _ = rocket::build().mount("/", routes![protected]);
}

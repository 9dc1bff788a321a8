#[macro_use]
extern crate rocket;

use rocket_flask_jwt_macros::jwt_required;

const REALM: &str = "Admin area";

#[jwt_required(realm = REALM)]
#[get("/")]
fn protected() -> &'static str {
    REALM
}

fn main() {
    let _ = rocket::build().mount("/", routes![protected]);
}

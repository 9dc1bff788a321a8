#[macro_use]
extern crate rocket;

use rocket_flask_jwt_macros::jwt_required;

#[jwt_required]
#[get("/<__jwt_auth>")]
fn protected(__jwt_auth: u32) -> String {
    __jwt_auth.to_string()
}

fn main() {
    let _ = rocket::build().mount("/", routes![protected]);
}

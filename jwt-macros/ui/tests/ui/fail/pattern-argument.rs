#[macro_use]
extern crate rocket;

use rocket_flask_jwt_macros::jwt_required;

#[jwt_required]
#[get("/<a>/<b>")]
fn protected((a, b): (u32, u32)) -> String {
    format!("{a} {b}")
}

fn main() {
    let _ = rocket::build().mount("/", routes![protected]);
}

#[macro_use]
extern crate rocket;

use rocket_flask_jwt::jwt_required;

#[jwt_required]
#[get("/next/<n>")]
fn next(mut n: u32) -> String {
    n += 1;
    n.to_string()
}

fn main() {
    let _ = rocket::build().mount("/", routes![next]);
}

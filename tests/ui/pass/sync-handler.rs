#[macro_use]
extern crate rocket;

use rocket_flask_jwt::{current_identity, jwt_required};

struct User {
    id: u64,
}

#[jwt_required]
#[get("/protected")]
fn protected() -> String {
    format!("User(id='{}')", current_identity!(User).id)
}

fn main() {
    let _ = rocket::build().mount("/", routes![protected]);
}

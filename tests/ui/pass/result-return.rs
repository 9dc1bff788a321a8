#[macro_use]
extern crate rocket;

use rocket::http::Status;
use rocket_flask_jwt::jwt_required;

#[jwt_required]
#[get("/maybe/<n>")]
fn maybe(n: u32) -> Result<String, Status> {
    if n == 0 {
        Err(Status::NotFound)
    } else {
        Ok(n.to_string())
    }
}

fn main() {
    let _ = rocket::build().mount("/", routes![maybe]);
}

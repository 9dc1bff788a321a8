#[macro_use]
extern crate rocket;

use rocket_flask_jwt::jwt_required;

#[jwt_required(realm = "Admin area")]
#[get("/admin")]
fn admin() -> &'static str {
    "admin"
}

#[jwt_required(realm = "Staff area")]
#[post("/staff")]
async fn staff() -> &'static str {
    "staff"
}

fn main() {
    let _ = rocket::build().mount("/", routes![admin, staff]);
}

//! The bare contender: `/protected` without any guard, the same body as the others'. Its
//! protected/unprotected ratio is the method's own error.
#[macro_use]
extern crate rocket;

#[get("/protected")]
fn protected() -> String {
    peers::body(peers::SUBJECT)
}

#[launch]
fn rocket() -> _ {
    rocket::build().mount("/", routes![protected, peers::unprotected])
}

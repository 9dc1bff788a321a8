#[macro_use]
extern crate rocket;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocket::State;
use rocket_flask_jwt::{current_identity, jwt_required};

struct User {
    id: u64,
}

struct Hits(AtomicU64);

#[jwt_required]
#[get("/items/<id>")]
async fn item(hits: &State<Hits>, id: u32) -> String {
    rocket::tokio::task::yield_now().await;
    let user: Arc<User> = current_identity!();
    let count = hits.0.fetch_add(1, Ordering::Relaxed);
    format!("item {id} for user {} (hit {count})", user.id)
}

fn main() {
    let _ = rocket::build()
        .manage(Hits(AtomicU64::new(0)))
        .mount("/", routes![item]);
}

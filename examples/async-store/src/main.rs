//! Async authentication and identity callbacks against a real store (SQLite).
//!
//! The callbacks await the database on Rocket's blocking pool, as an application backed by a
//! database does; `current_identity!()` then gives the row the identity callback loaded.
//!
//! ```text
//! JWT_SECRET_KEY=$(openssl rand -base64 32) cargo run -p async-store   # database file: users.sqlite3 (STORE_PATH to change)
//! curl -s -X POST localhost:8000/auth -H 'Content-Type: application/json' \
//!      -d '{"username": "ada", "password": "lovelace"}'
//! curl -s localhost:8000/me -H "Authorization: JWT <access_token>"
//! ```
#[macro_use]
extern crate rocket;

use std::sync::{Arc, Mutex};

use rocket::serde::json::Json;
use rocket::serde::Serialize;
use rocket::tokio::task;
use rocket_flask_jwt::{current_identity, jwt_required, Jwt};
use rusqlite::{Connection, OptionalExtension};
use subtle::ConstantTimeEq;

/// A user row, as the identity callback loads it.
#[derive(Debug, Clone, Serialize)]
#[serde(crate = "rocket::serde")]
struct User {
    id: i64,
    username: String,
    display_name: String,
}

/// A SQLite-backed user store. Queries run on the blocking pool, so callbacks stay async.
#[derive(Clone)]
struct Store {
    connection: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (and seeds, the first time) the database at `path`.
    fn open(path: &str) -> rusqlite::Result<Store> {
        let connection = Connection::open(path)?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS users (
                 id INTEGER PRIMARY KEY,
                 username TEXT NOT NULL UNIQUE,
                 password TEXT NOT NULL,
                 display_name TEXT NOT NULL
             );
             INSERT OR IGNORE INTO users VALUES (1, 'ada', 'lovelace', 'Ada Lovelace');
             INSERT OR IGNORE INTO users VALUES (2, 'alan', 'turing', 'Alan Turing');",
        )?;
        Ok(Store {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<Option<T>> + Send + 'static,
    ) -> Option<T> {
        let connection = Arc::clone(&self.connection);
        let result = task::spawn_blocking(move || {
            let connection = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&connection)
        })
        .await;
        match result {
            Ok(Ok(row)) => row,
            Ok(Err(error)) => {
                log::error!("store: {error}");
                None
            }
            Err(error) => {
                log::error!("store: query task failed: {error}");
                None
            }
        }
    }

    /// The user whose password matches. Real applications store a password hash (argon2) and
    /// verify it here; the comparison below is constant-time either way.
    async fn authenticate(&self, username: String, password: String) -> Option<User> {
        let (user, stored) = self
            .query(move |db| {
                db.query_row(
                    "SELECT id, username, display_name, password FROM users WHERE username = ?1",
                    [&username],
                    |row| {
                        let user = User {
                            id: row.get(0)?,
                            username: row.get(1)?,
                            display_name: row.get(2)?,
                        };
                        Ok((user, row.get::<_, String>(3)?))
                    },
                )
                .optional()
            })
            .await?;
        bool::from(stored.as_bytes().ct_eq(password.as_bytes())).then_some(user)
    }

    async fn user(&self, id: i64) -> Option<User> {
        self.query(move |db| {
            db.query_row(
                "SELECT id, username, display_name FROM users WHERE id = ?1",
                [id],
                |row| {
                    Ok(User {
                        id: row.get(0)?,
                        username: row.get(1)?,
                        display_name: row.get(2)?,
                    })
                },
            )
            .optional()
        })
        .await
    }
}

#[jwt_required]
#[get("/me")]
async fn me() -> Json<User> {
    Json(current_identity!(User).as_ref().clone())
}

fn app(store: Store) -> rocket::Rocket<rocket::Build> {
    let for_login = store.clone();
    let for_identity = store;
    // The secret comes from `JWT_SECRET_KEY` or the `jwt` table of `Rocket.toml`.
    let jwt = Jwt::builder()
        .authentication_handler_async(move |username, password| {
            let store = for_login.clone();
            async move { store.authenticate(username, password).await }
        })
        .identity_handler_async(move |payload| {
            let store = for_identity.clone();
            async move { store.user(payload.get("identity")?.as_i64()?).await }
        })
        .build()
        .expect("the Jwt configuration is complete");
    rocket::build().attach(jwt).mount("/", routes![me])
}

#[launch]
fn rocket() -> _ {
    let path = std::env::var("STORE_PATH").unwrap_or_else(|_| "users.sqlite3".into());
    let store = Store::open(&path).unwrap_or_else(|e| panic!("cannot open the store {path}: {e}"));
    app(store)
}

#[cfg(test)]
mod tests {
    use rocket::http::{ContentType, Header, Status};
    use rocket::local::asynchronous::Client;

    #[rocket::async_test]
    async fn login_and_identity_go_through_the_store() {
        let store = super::Store::open(":memory:").expect("in-memory database");
        // A test secret, as `JWT_SECRET_KEY` would give it (never a real one).
        let app = super::app(store);
        let figment = app
            .figment()
            .clone()
            .merge(("jwt.secret_key", "a-test-secret-of-more-than-32-bytes"));
        let client = Client::tracked(app.configure(figment))
            .await
            .expect("valid rocket");
        let response = client
            .post("/auth")
            .header(ContentType::JSON)
            .body(r#"{"username": "ada", "password": "lovelace"}"#)
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok);
        let body: serde_json::Value = response.into_json().await.expect("json");
        let token = body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
        let response = client
            .get("/me")
            .header(Header::new("Authorization", format!("JWT {token}")))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok);
        let me: serde_json::Value = response.into_json().await.expect("json");
        assert_eq!(me["display_name"], "Ada Lovelace");

        let response = client
            .post("/auth")
            .header(ContentType::JSON)
            .body(r#"{"username": "ada", "password": "babbage"}"#)
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Unauthorized);
    }
}

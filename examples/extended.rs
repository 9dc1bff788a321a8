//! Flask-JWT-Extended's documented application, ported: access and refresh tokens, fresh and
//! optional routes, tokens in the `Authorization` header, cookies (with CSRF double submit), the
//! query string and JSON bodies, and a one-page browser demo at `/`.
//!
//! ```text
//! JWT_SECRET_KEY=$(openssl rand -base64 32) cargo run --example extended
//! curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//!      -d '{"username": "user1", "password": "abcxyz"}'
//! curl -s localhost:8000/protected -H "Authorization: Bearer <access_token>"
//! ```
//!
//! With `REDIS_URL` set (e.g. `REDIS_URL=redis://127.0.0.1:6379/`), revoked tokens are kept in
//! that Redis, shared by every instance, and three routes revoke them: `DELETE /logout` (the
//! presented token, access or refresh, as Flask-JWT-Extended's Redis blocklist example does),
//! `DELETE /logout/refresh` (a refresh token, e.g. the refresh cookie's) and
//! `DELETE /logout/everywhere` (every token of the presented token's subject).
//!
//! With `JWT_REFRESH_TOKEN_ROTATION=true`, every refresh also answers a new refresh token and the
//! presented one stops working; presenting it again revokes the session
//! (`JWT_REFRESH_TOKEN_REUSE_GRACE=<seconds>` lets the token replaced last be presented again for
//! that long, for the same answer). `GET /sessions` lists the caller's sessions and
//! `DELETE /sessions/<id>` ends one.
//!
//! With `JWT_SIGNING_KEYS_DIR=<directory>` (in place of `JWT_SECRET_KEY`), tokens are signed by
//! the key ring of that directory's key files and its public keys are served at
//! `/.well-known/jwks.json` (see the README's "Our own signing keys").
//!
//! Every answer is the one Flask-JWT-Extended 4.7.1 gives for the same application
//! (`tests/interop/extended_app.py`), apart from token values.
use rocket::http::{ContentType, Status};
use rocket::serde::json::{json, Value};
use rocket::serde::Serialize;
use rocket::{delete, get, post, routes, Build, Rocket};
use rocket_flask_jwt::{
    current_identity, extended::Freshness, extended::JwtCookies, extended::JwtManager,
    extended::Location, identity::get_jwt, identity::get_jwt_identity, jwt_required,
    revocation::Revoker, Jwt, JwtResponse,
};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Serialize)]
#[serde(crate = "rocket::serde")]
struct User {
    id: u64,
    username: &'static str,
    #[serde(skip)]
    password: &'static str,
}

const USERS: [User; 2] = [
    User {
        id: 1,
        username: "user1",
        password: "abcxyz",
    },
    User {
        id: 2,
        username: "user2",
        password: "abcxyz",
    },
];

/// The user a login body names, when its password matches (compared in constant time). The body
/// is read leniently: anything but a JSON object with the right string credentials is refused.
fn authenticate(body: &[u8]) -> Option<&'static User> {
    let credentials: Value = rocket::serde::json::from_slice(body).ok()?;
    let username = credentials.get("username")?.as_str()?;
    let password = credentials.get("password")?.as_str()?;
    let user = USERS.iter().find(|user| user.username == username)?;
    bool::from(user.password.as_bytes().ct_eq(password.as_bytes())).then_some(user)
}

/// The user lookup: the user whose username is the token's `sub`.
fn user_lookup(sub: &Value) -> Option<User> {
    let username = sub.as_str()?;
    USERS.iter().find(|user| user.username == username).cloned()
}

/// 401 `{"msg": "Bad username or password"}`.
fn bad_credentials() -> (Status, Value) {
    (
        Status::Unauthorized,
        json!({"msg": "Bad username or password"}),
    )
}

#[post("/login", data = "<body>")]
async fn login(jwt: JwtManager<'_>, body: Vec<u8>) -> Result<(Status, Value), JwtResponse> {
    let Some(user) = authenticate(&body) else {
        return Ok(bad_credentials());
    };
    let mut tokens = json!({
        "access_token": jwt.create_access_token(user.username, Freshness::Fresh)?,
        // `create_refresh_token`, and with rotation on the session is listed from now on.
        "refresh_token": jwt.start_session(user.username).await?,
    });
    with_token_type(&mut tokens, &jwt);
    Ok((Status::Ok, tokens))
}

/// With `JWT_DPOP` on, a login or refresh with a DPoP proof gets tokens bound to the proof's
/// key: the answer says so, as an OAuth token answer does.
fn with_token_type(tokens: &mut Value, jwt: &JwtManager<'_>) {
    if jwt.dpop_key().is_some() {
        tokens["token_type"] = json!(jwt.token_type());
    }
}

#[post("/login/cookies", data = "<body>")]
async fn login_cookies(
    jwt: JwtManager<'_>,
    cookies: JwtCookies<'_>,
    body: Vec<u8>,
) -> Result<(Status, Value), JwtResponse> {
    let Some(user) = authenticate(&body) else {
        return Ok(bad_credentials());
    };
    cookies.set_access_cookies(&jwt.create_access_token(user.username, Freshness::Fresh)?)?;
    cookies.set_refresh_cookies(&jwt.start_session(user.username).await?)?;
    Ok((Status::Ok, json!({"login": true})))
}

#[post("/logout/cookies")]
fn logout_cookies(cookies: JwtCookies<'_>) -> Result<Value, JwtResponse> {
    cookies.unset_jwt_cookies()?;
    Ok(json!({"logout": true}))
}

/// A new access token; with rotation on, the refresh token that replaces the presented one
/// too (a refresh cookie is replaced without the handler's help).
#[jwt_required(refresh)]
#[post("/refresh")]
fn refresh(jwt: JwtManager<'_>) -> Result<Value, JwtResponse> {
    let access_token = jwt.create_access_token(get_jwt_identity(), Freshness::NotFresh)?;
    let mut tokens = match jwt.rotated_refresh_token() {
        Some(refresh_token) => {
            json!({ "access_token": access_token, "refresh_token": refresh_token })
        }
        None => json!({ "access_token": access_token }),
    };
    with_token_type(&mut tokens, &jwt);
    Ok(tokens)
}

/// A new access token in the access cookies (for a refresh token in a cookie); with rotation
/// on, the refresh cookies carry the successor too.
#[jwt_required(refresh)]
#[post("/refresh/cookies")]
fn refresh_cookies(jwt: JwtManager<'_>, cookies: JwtCookies<'_>) -> Result<Value, JwtResponse> {
    cookies
        .set_access_cookies(&jwt.create_access_token(get_jwt_identity(), Freshness::NotFresh)?)?;
    Ok(json!({"refresh": true}))
}

/// The caller's sessions (with rotation on: each login's family of refresh tokens).
#[jwt_required]
#[get("/sessions")]
async fn sessions(revoker: Option<&Revoker>) -> Result<Value, JwtResponse> {
    let sessions = match revoker {
        Some(revoker) => revoker.sessions(get_jwt_identity()).await?,
        None => Vec::new(),
    };
    Ok(json!({ "sessions": sessions }))
}

/// Ends one of the caller's sessions, leaving the others.
#[jwt_required]
#[delete("/sessions/<id>")]
async fn end_session(revoker: Option<&Revoker>, id: &str) -> Result<(Status, Value), JwtResponse> {
    let ended = match revoker {
        Some(revoker) => revoker.revoke_session(get_jwt_identity(), id).await?,
        None => false,
    };
    Ok(match ended {
        true => (Status::Ok, json!({"msg": "Session revoked"})),
        false => (Status::NotFound, json!({"msg": "No such session"})),
    })
}

#[jwt_required]
#[get("/protected")]
fn protected() -> Value {
    json!({"logged_in_as": get_jwt_identity()})
}

#[jwt_required]
#[post("/protected")]
fn protected_post() -> Value {
    json!({"logged_in_as": get_jwt_identity()})
}

#[jwt_required(fresh)]
#[get("/fresh")]
fn fresh() -> Value {
    json!({"fresh": true, "logged_in_as": get_jwt_identity()})
}

#[jwt_required(optional)]
#[get("/optional")]
fn optional() -> Value {
    json!({"logged_in_as": get_jwt_identity()})
}

#[jwt_required]
#[get("/claims")]
fn claims() -> Value {
    let claims = get_jwt();
    json!({"sub": claims.get("sub"), "type": claims.get("type"), "fresh": claims.get("fresh")})
}

#[jwt_required]
#[get("/user")]
fn user() -> Value {
    let user = current_identity!(User);
    json!({"id": user.id, "username": user.username})
}

#[jwt_required(locations = ["headers"])]
#[get("/headers-only")]
fn headers_only() -> Value {
    json!({"logged_in_as": get_jwt_identity()})
}

/// Revokes the presented token, access or refresh, on every instance sharing the Redis.
#[jwt_required(verify_type = false)]
#[delete("/logout")]
async fn logout(revoker: &Revoker) -> Result<Value, JwtResponse> {
    let claims = get_jwt();
    revoker.revoke_token(&claims).await?;
    let kind = match claims.get("type").and_then(Value::as_str) {
        Some("refresh") => "Refresh",
        _ => "Access",
    };
    Ok(json!({"msg": format!("{kind} token revoked")}))
}

/// Revokes the presented refresh token (a refresh cookie's, with its CSRF value) and unsets the
/// refresh cookies.
#[jwt_required(refresh)]
#[delete("/logout/refresh")]
async fn logout_refresh(revoker: &Revoker, cookies: JwtCookies<'_>) -> Result<Value, JwtResponse> {
    revoker.revoke_token(&get_jwt()).await?;
    cookies.unset_refresh_cookies()?;
    Ok(json!({"msg": "Refresh token revoked"}))
}

/// Revokes every token of the presented token's subject issued until now ("log out
/// everywhere").
#[jwt_required(verify_type = false)]
#[delete("/logout/everywhere")]
async fn logout_everywhere(revoker: &Revoker) -> Result<Value, JwtResponse> {
    let subject = get_jwt_identity().unwrap_or_default();
    revoker.revoke_subject(subject).await?;
    Ok(json!({"msg": "All tokens revoked"}))
}

/// The browser demo: log in with cookies, call the protected routes with the CSRF header,
/// refresh, log out.
#[get("/")]
fn demo() -> (ContentType, &'static str) {
    (ContentType::HTML, include_str!("extended/index.html"))
}

/// The application: Flask-JWT-Extended's profile, tokens in every location, CSRF protection on,
/// cookies without `Secure` (plain HTTP on localhost); revocation on Redis when `REDIS_URL` is
/// set.
pub fn rocket() -> Rocket<Build> {
    app(std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty()))
}

/// The application, with revoked tokens in the Redis at `redis_url` when given.
pub fn app(redis_url: Option<String>) -> Rocket<Build> {
    let mut jwt = Jwt::builder()
        .extended()
        // The secret comes from `JWT_SECRET_KEY` or the `jwt` table of `Rocket.toml`, never from
        // the code.
        .token_location([
            Location::Headers,
            Location::Cookies,
            Location::QueryString,
            Location::Json,
        ])
        .cookie_secure(false)
        .identity_from_claim(user_lookup);
    if let Some(url) = &redis_url {
        jwt = jwt.redis_url(url);
    }
    let jwt = jwt.build().expect("valid Jwt configuration");
    let rocket = match redis_url {
        Some(_) => rocket::build().mount("/", routes![logout, logout_refresh, logout_everywhere]),
        None => rocket::build(),
    };
    rocket.attach(jwt).mount(
        "/",
        routes![
            demo,
            login,
            login_cookies,
            logout_cookies,
            refresh,
            refresh_cookies,
            sessions,
            end_session,
            protected,
            protected_post,
            fresh,
            optional,
            claims,
            user,
            headers_only
        ],
    )
}

#[rocket::main]
#[allow(dead_code)] // tests include this file for `rocket()`
async fn main() -> Result<(), Box<rocket::Error>> {
    rocket().launch().await.map(|_| ()).map_err(Box::new)
}

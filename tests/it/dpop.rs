//! DPoP (RFC 9449) through Rocket's local client: tokens bound at login and refresh, the proof
//! checks of §4.3 and §7.1 each refusing the attack it is there for, the answers of §7.1 with
//! their challenges in both profiles, server nonces, and no downgrade to `Bearer`.

use rocket::http::Header;
use rocket::local::blocking::{Client, LocalResponse};
use rocket::serde::json::{json, Value};
use rocket::{get, post, routes};
use rocket_flask_jwt::extended::{Freshness, JwtManager};
use rocket_flask_jwt::identity::get_jwt_identity;
use rocket_flask_jwt::{jwt_required, DpopMode, Jwt, JwtAuth, JwtResponse, Rules};

use crate::common::dpop::{ath, fresh_jti, ClientKey};
use crate::common::{self, now};

/// The origin the application is reached at; every proof's `htu` starts with it.
const ORIGIN: &str = "https://api.example.test";

fn url(path: &str) -> String {
    format!("{ORIGIN}{path}")
}

#[post("/login")]
fn login(jwt: JwtManager<'_>) -> Result<Value, JwtResponse> {
    Ok(json!({
        "access_token": jwt.create_access_token("alice", Freshness::Fresh)?,
        "refresh_token": jwt.create_refresh_token("alice")?,
        "token_type": jwt.token_type(),
    }))
}

#[jwt_required]
#[get("/protected")]
fn protected() -> String {
    get_jwt_identity()
        .and_then(|identity| identity.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A route that takes only DPoP-bound tokens, whatever the setting says.
struct DpopOnly;
impl Rules for DpopOnly {
    const DPOP: Option<DpopMode> = Some(DpopMode::Required);
}

#[get("/bound-only")]
fn bound_only(auth: JwtAuth<DpopOnly>) -> Result<&'static str, JwtResponse> {
    auth.run_sync(|| "bound")
}

/// A route that takes no DPoP, whatever the setting says.
#[jwt_required(dpop = "off")]
#[get("/bearer-only")]
fn bearer_only() -> &'static str {
    "bearer"
}

#[jwt_required(refresh)]
#[post("/refresh")]
fn refresh(jwt: JwtManager<'_>) -> Result<Value, JwtResponse> {
    Ok(json!({
        "access_token": jwt.create_access_token(get_jwt_identity(), Freshness::NotFresh)?,
        "token_type": jwt.token_type(),
    }))
}

/// The extended profile with `dpop = "allowed"` and a public origin.
fn extended(
    configure: impl FnOnce(rocket_flask_jwt::JwtBuilder<()>) -> rocket_flask_jwt::JwtBuilder<()>,
) -> Client {
    let jwt = configure(
        Jwt::builder()
            .extended()
            .secret_key("a secret of at least thirty-two bytes!")
            .dpop(DpopMode::Allowed)
            .public_origin(ORIGIN),
    )
    .build()
    .expect("valid");
    let rocket = rocket::custom(rocket::Config::debug_default())
        .attach(jwt)
        .mount(
            "/",
            routes![login, protected, bound_only, bearer_only, refresh],
        );
    Client::tracked(rocket).expect("ignites")
}

fn client() -> Client {
    extended(|builder| builder)
}

/// An answer's status, `WWW-Authenticate` lines, `DPoP-Nonce` and body.
struct Answer {
    status: u16,
    challenges: Vec<String>,
    nonce: Option<String>,
    body: String,
}

impl Answer {
    fn of(response: LocalResponse<'_>) -> Answer {
        Answer {
            status: response.status().code,
            challenges: response
                .headers()
                .get("WWW-Authenticate")
                .map(str::to_owned)
                .collect(),
            nonce: response.headers().get_one("DPoP-Nonce").map(str::to_owned),
            body: response.into_string().unwrap_or_default(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// The `DPoP` challenge.
    fn dpop_challenge(&self) -> &str {
        self.challenges
            .iter()
            .find(|challenge| challenge.starts_with("DPoP "))
            .unwrap_or_else(|| panic!("no DPoP challenge in {:?}", self.challenges))
    }

    /// Asserts a 401 whose DPoP challenge carries `code` and whose message names `words`.
    fn refused(&self, code: &str, words: &str) {
        assert_eq!(self.status, 401, "{}", self.body);
        let challenge = self.dpop_challenge();
        assert!(
            challenge.contains(&format!("error=\"{code}\"")),
            "{challenge}"
        );
        assert!(self.body.contains(words), "{words:?} not in {}", self.body);
    }
}

/// Logs in, with a proof by `key` when given: the access and refresh tokens and the
/// `token_type`.
fn log_in(client: &Client, key: Option<&ClientKey>) -> (String, String, String) {
    let mut request = client.post("/login");
    if let Some(key) = key {
        request = request.header(Header::new("DPoP", key.proof("POST", &url("/login"), None)));
    }
    let answer = Answer::of(request.dispatch());
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let text = |name: &str| body[name].as_str().expect(name).to_owned();
    (
        text("access_token"),
        text("refresh_token"),
        text("token_type"),
    )
}

/// The claims of `token`, read without verification.
fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).expect("claims");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A GET of `path` with `authorization` and each proof as a `DPoP` header.
fn get(client: &Client, path: &str, authorization: &str, proofs: &[String]) -> Answer {
    let mut request = client
        .get(path.to_owned())
        .header(Header::new("Authorization", authorization.to_owned()));
    for proof in proofs {
        request = request.header(Header::new("DPoP", proof.clone()));
    }
    Answer::of(request.dispatch())
}

/// A bound access token and its key.
fn bound(client: &Client) -> (ClientKey, String) {
    let key = ClientKey::es256();
    let (access, _, _) = log_in(client, Some(&key));
    (key, access)
}

#[test]
fn a_login_with_a_proof_gets_tokens_bound_to_its_key() {
    let client = client();
    let key = ClientKey::es256();
    let (access, refresh, token_type) = log_in(&client, Some(&key));
    assert_eq!(token_type, "DPoP");
    assert_eq!(claims(&access)["cnf"], json!({"jkt": key.thumbprint}));
    assert_eq!(claims(&refresh)["cnf"], json!({"jkt": key.thumbprint}));
    let (access, _, token_type) = log_in(&client, None);
    assert_eq!(token_type, "Bearer");
    assert_eq!(claims(&access).get("cnf"), None);
}

#[test]
fn a_bound_token_with_its_proof_is_accepted_for_each_key_type() {
    let client = client();
    for key in [ClientKey::es256(), ClientKey::eddsa(), ClientKey::ps256()] {
        let (access, _, _) = log_in(&client, Some(&key));
        let proof = key.proof("GET", &url("/protected"), Some(&access));
        let answer = get(&client, "/protected", &format!("DPoP {access}"), &[proof]);
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, "alice"),
            "{:?}",
            key.algorithm
        );
        // The scheme in any case (RFC 9110 §11.1).
        let proof = key.proof("GET", &url("/bound-only"), Some(&access));
        let answer = get(&client, "/bound-only", &format!("dpop {access}"), &[proof]);
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
}

#[test]
fn the_query_string_is_not_part_of_the_proof_url() {
    let client = client();
    let (key, access) = bound(&client);
    let proof = key.proof("GET", &url("/protected"), Some(&access));
    let answer = get(
        &client,
        "/protected?page=2",
        &format!("DPoP {access}"),
        &[proof],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[test]
fn a_proof_is_accepted_once() {
    let client = client();
    let (key, access) = bound(&client);
    let proof = key.proof("GET", &url("/protected"), Some(&access));
    let authorization = format!("DPoP {access}");
    assert_eq!(
        get(
            &client,
            "/protected",
            &authorization,
            std::slice::from_ref(&proof)
        )
        .status,
        200
    );
    get(
        &client,
        "/protected",
        &authorization,
        std::slice::from_ref(&proof),
    )
    .refused("invalid_dpop_proof", "already used");
    // Nor with a query-string variant of the URL (a fragment never reaches a server).
    get(&client, "/protected?x=1", &authorization, &[proof])
        .refused("invalid_dpop_proof", "already used");
    // A proof whose `htu` carries a query and a fragment names the same URL, once.
    let variant = key.proof("GET", &url("/protected?x=1#top"), Some(&access));
    assert_eq!(
        get(
            &client,
            "/protected",
            &authorization,
            std::slice::from_ref(&variant)
        )
        .status,
        200
    );
    get(&client, "/protected?y=2", &authorization, &[variant])
        .refused("invalid_dpop_proof", "already used");
}

#[test]
fn a_proof_for_another_request_is_refused() {
    let client = client();
    let (key, access) = bound(&client);
    let authorization = format!("DPoP {access}");
    let cases = [
        ("POST", url("/protected"), "htm"),
        ("GET", url("/bound-only"), "htu"),
        (
            "GET",
            "https://evil.example.test/protected".to_owned(),
            "htu",
        ),
        ("GET", "http://api.example.test/protected".to_owned(), "htu"),
        ("GET", url("/protected/"), "htu"),
        ("GET", "/protected".to_owned(), "htu"),
    ];
    for (method, htu, named) in cases {
        let proof = key.proof(method, &htu, Some(&access));
        get(&client, "/protected", &authorization, &[proof]).refused("invalid_dpop_proof", named);
    }
}

#[test]
fn a_proof_for_another_token_or_by_another_key_is_refused() {
    let client = client();
    let (key, access) = bound(&client);
    let (_, other_access) = bound(&client);
    let authorization = format!("DPoP {access}");
    // Another token's `ath`.
    let proof = key.proof("GET", &url("/protected"), Some(&other_access));
    get(&client, "/protected", &authorization, &[proof]).refused("invalid_dpop_proof", "ath");
    // No `ath` at all.
    let proof = key.proof("GET", &url("/protected"), None);
    get(&client, "/protected", &authorization, &[proof]).refused("invalid_dpop_proof", "ath");
    // Signed by another key than the token's `cnf.jkt`.
    let other = ClientKey::other_es256();
    let proof = other.proof("GET", &url("/protected"), Some(&access));
    get(&client, "/protected", &authorization, &[proof]).refused("invalid_token", "cnf.jkt");
}

#[test]
fn proofs_an_attacker_forges_are_refused() {
    let client = client();
    let (key, access) = bound(&client);
    let authorization = format!("DPoP {access}");
    let htu = url("/protected");
    let attempt = |proof: String, code: &str, words: &str| {
        get(&client, "/protected", &authorization, &[proof]).refused(code, words)
    };
    // `alg: none`, no signature.
    let none = key.proof_with("GET", &htu, Some(&access), |header, _| {
        header["alg"] = json!("none")
    });
    let unsigned = format!("{}.", none.rsplit_once('.').unwrap().0);
    attempt(unsigned, "invalid_dpop_proof", "alg");
    // HS256 with the public key's bytes as the secret.
    let header = json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk});
    let claims =
        json!({"jti": fresh_jti(), "htm": "GET", "htu": htu, "iat": now(), "ath": ath(&access)});
    let hs256 = common::sign_hs256(&header, &claims, &key.jwk.to_string());
    attempt(hs256, "invalid_dpop_proof", "alg");
    // A private key in `jwk`.
    let private = key.proof_with("GET", &htu, Some(&access), |header, _| {
        header["jwk"]["d"] = json!("bm90IGEgcmVhbCBwcml2YXRlIGtleQ");
    });
    attempt(private, "invalid_dpop_proof", "private key material");
    // A symmetric `jwk`.
    let symmetric = key.proof_with("GET", &htu, Some(&access), |header, _| {
        header["jwk"] = json!({"kty": "oct", "k": "c2VjcmV0"});
    });
    attempt(symmetric, "invalid_dpop_proof", "jwk");
    // Another `typ`.
    let typed = key.proof_with("GET", &htu, Some(&access), |header, _| {
        header["typ"] = json!("JWT")
    });
    attempt(typed, "invalid_dpop_proof", "typ");
    // `iat` far in the past, and in the future.
    let old = key.proof_with("GET", &htu, Some(&access), |_, claims| {
        claims["iat"] = json!(now() - 3600)
    });
    attempt(old, "invalid_dpop_proof", "too old");
    let ahead = key.proof_with("GET", &htu, Some(&access), |_, claims| {
        claims["iat"] = json!(now() + 3600)
    });
    attempt(ahead, "invalid_dpop_proof", "future");
    // Without `jti`.
    let anonymous = key.proof_with("GET", &htu, Some(&access), |_, claims| {
        claims.as_object_mut().unwrap().remove("jti");
    });
    attempt(anonymous, "invalid_dpop_proof", "jti");
    // A tampered claim under the original signature.
    let proof = key.proof("GET", &htu, Some(&access));
    let mut parts: Vec<&str> = proof.split('.').collect();
    let tampered_claims = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
        claims["jti"] = json!(fresh_jti());
        engine.encode(serde_json::to_vec(&claims).unwrap())
    };
    parts[1] = &tampered_claims;
    attempt(parts.join("."), "invalid_dpop_proof", "signature");
    // Not a JWS.
    attempt("not-a-proof".into(), "invalid_dpop_proof", "compact JWS");
}

#[test]
fn two_proofs_or_an_oversized_one_are_refused() {
    let client = client();
    let (key, access) = bound(&client);
    let authorization = format!("DPoP {access}");
    let htu = url("/protected");
    let proofs = [
        key.proof("GET", &htu, Some(&access)),
        key.proof("GET", &htu, Some(&access)),
    ];
    get(&client, "/protected", &authorization, &proofs)
        .refused("invalid_dpop_proof", "more than one");
    get(&client, "/protected", &authorization, &[]).refused("invalid_dpop_proof", "no DPoP header");
    // A proof as large as a header may be: padded with a claim.
    let large = key.proof_with("GET", &htu, Some(&access), |_, claims| {
        claims["pad"] = json!("x".repeat(16 * 1024));
    });
    get(&client, "/protected", &authorization, &[large])
        .refused("invalid_dpop_proof", "larger than");
}

#[test]
fn no_downgrade_to_bearer() {
    let client = client();
    let (key, access) = bound(&client);
    // A bound token sent as a bearer token, with or without its proof.
    let proof = key.proof("GET", &url("/protected"), Some(&access));
    get(&client, "/protected", &format!("Bearer {access}"), &[proof])
        .refused("invalid_token", "DPoP-bound");
    get(&client, "/protected", &format!("Bearer {access}"), &[])
        .refused("invalid_token", "DPoP-bound");
    // A bearer token on a route that requires DPoP; and sent with the DPoP scheme.
    let (bearer, _, _) = log_in(&client, None);
    let answer = get(&client, "/bound-only", &format!("Bearer {bearer}"), &[]);
    answer.refused("invalid_token", "only DPoP-bound tokens");
    assert_eq!(
        answer.challenges.len(),
        1,
        "only the DPoP challenge: {:?}",
        answer.challenges
    );
    let proof = key.proof("GET", &url("/protected"), Some(&bearer));
    get(&client, "/protected", &format!("DPoP {bearer}"), &[proof])
        .refused("invalid_token", "not bound");
    // The bearer token still works as one where bearer tokens are allowed.
    assert_eq!(
        get(&client, "/protected", &format!("Bearer {bearer}"), &[]).status,
        200
    );
}

#[test]
fn the_answers_carry_the_dpop_challenge_with_the_algorithms() {
    let client = client();
    let answer = Answer::of(client.get("/protected").dispatch());
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.dpop_challenge(),
        r#"DPoP algs="ES256 ES384 EdDSA Ed25519 PS256 PS384 PS512 RS256 RS384 RS512""#
    );
    assert_eq!(
        answer.json(),
        json!({"msg": "Missing Authorization Header"})
    );
    // A refused proof: Flask-JWT-Extended's body, the check named.
    let (key, access) = bound(&client);
    let proof = key.proof("POST", &url("/protected"), Some(&access));
    let answer = get(&client, "/protected", &format!("DPoP {access}"), &[proof]);
    assert_eq!(
        answer.json(),
        json!({"msg": "DPoP proof: `htm` is not the request's method GET"})
    );
    assert!(answer
        .dpop_challenge()
        .contains(r#"error_description="DPoP proof: `htm` is not the request's method GET""#));
}

#[test]
fn the_flask_jwt_profile_answers_both_challenges_in_its_body() {
    let jwt = common::builder()
        .auth_header_prefix("Bearer")
        .dpop(DpopMode::Allowed)
        .public_origin(ORIGIN)
        .build()
        .expect("valid");
    let client = common::client_with(jwt);
    let answer = Answer::of(client.get("/protected").dispatch());
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenges.len(), 2, "{:?}", answer.challenges);
    assert!(answer.challenges[0].starts_with("Bearer realm=\"Login Required\""));
    assert!(answer.challenges[1].starts_with("DPoP algs="));
    // A token bound to a key, sent with a proof by another.
    let key = ClientKey::es256();
    let mut claims = common::claims(json!(1));
    claims["cnf"] = json!({"jkt": key.thumbprint});
    let token = common::sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
        common::SECRET,
    );
    let proof = ClientKey::other_es256().proof("GET", &url("/protected"), Some(&token));
    let answer = get(&client, "/protected", &format!("DPoP {token}"), &[proof]);
    answer.refused("invalid_token", "cnf.jkt");
    assert_eq!(answer.json()["status_code"], 401);
    assert_eq!(answer.json()["error"], "Invalid token");
    // With the right key: the identity callback's user.
    let proof = key.proof("GET", &url("/protected"), Some(&token));
    let answer = get(&client, "/protected", &format!("DPoP {token}"), &[proof]);
    assert_eq!((answer.status, answer.body.as_str()), (200, "success"));
}

#[test]
fn a_bound_refresh_token_refreshes_only_with_a_proof_by_its_key() {
    let client = client();
    let key = ClientKey::es256();
    let (_, refresh_token, _) = log_in(&client, Some(&key));
    let post = |authorization: String, proof: Option<String>| {
        let mut request = client
            .post("/refresh")
            .header(Header::new("Authorization", authorization));
        if let Some(proof) = proof {
            request = request.header(Header::new("DPoP", proof));
        }
        Answer::of(request.dispatch())
    };
    post(format!("Bearer {refresh_token}"), None).refused("invalid_token", "DPoP-bound");
    let other = ClientKey::other_es256().proof("POST", &url("/refresh"), Some(&refresh_token));
    post(format!("DPoP {refresh_token}"), Some(other)).refused("invalid_token", "cnf.jkt");
    let proof = key.proof("POST", &url("/refresh"), Some(&refresh_token));
    let answer = post(format!("DPoP {refresh_token}"), Some(proof));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["token_type"], "DPoP");
    let access = answer.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&access)["cnf"], json!({"jkt": key.thumbprint}));
}

#[test]
fn server_nonces_are_demanded_renewed_and_checked() {
    let client = extended(|builder| {
        builder
            .dpop_nonce(true)
            .dpop_nonce_secret("a nonce secret of at least 32 bytes")
    });
    // A login without a nonce is told to use one.
    let key = ClientKey::es256();
    let answer = Answer::of(
        client
            .post("/login")
            .header(Header::new("DPoP", key.proof("POST", &url("/login"), None)))
            .dispatch(),
    );
    answer.refused("use_dpop_nonce", "nonce");
    let nonce = answer.nonce.expect("a DPoP-Nonce header");
    let with_nonce = |method: &str, path: &str, token: Option<&str>, nonce: &str| {
        key.proof_with(method, &url(path), token, |_, claims| {
            claims["nonce"] = json!(nonce)
        })
    };
    let answer = Answer::of(
        client
            .post("/login")
            .header(Header::new(
                "DPoP",
                with_nonce("POST", "/login", None, &nonce),
            ))
            .dispatch(),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let access = answer.json()["access_token"].as_str().unwrap().to_owned();
    let authorization = format!("DPoP {access}");
    let proof = with_nonce("GET", "/protected", Some(&access), &nonce);
    assert_eq!(
        get(&client, "/protected", &authorization, &[proof]).status,
        200
    );
    // Forged, and from another fleet's key: refused, with a nonce to retry with.
    for bad in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "forged"] {
        let proof = with_nonce("GET", "/protected", Some(&access), bad);
        let answer = get(&client, "/protected", &authorization, &[proof]);
        answer.refused("use_dpop_nonce", "not issued by this server");
        assert_eq!(answer.nonce.as_deref(), Some(nonce.as_str()));
    }
}

#[test]
fn routes_without_dpop_read_no_dpop_header() {
    // The setting off (the default): the DPoP scheme is not read, and no challenge is added.
    let client = extended(|builder| builder.dpop(DpopMode::Off));
    let (key, access) = {
        let key = ClientKey::es256();
        let (access, _, token_type) = log_in(&client, Some(&key));
        assert_eq!(token_type, "Bearer", "no binding with DPoP off");
        (key, access)
    };
    let proof = key.proof("GET", &url("/protected"), Some(&access));
    let answer = get(&client, "/protected", &format!("DPoP {access}"), &[proof]);
    assert_eq!(answer.status, 401);
    assert!(answer.challenges.is_empty(), "{:?}", answer.challenges);
    assert_eq!(
        get(&client, "/protected", &format!("Bearer {access}"), &[]).status,
        200
    );
}

#[test]
fn each_refusal_names_its_check_in_the_log() {
    let client = client();
    let (key, access) = bound(&client);
    // A `jti` no other test uses, to find this request's line.
    let marker = fresh_jti();
    let proof = key.proof_with("POST", &url("/protected"), Some(&access), |_, claims| {
        claims["jti"] = json!(marker);
    });
    let answer = get(&client, "/protected", &format!("DPoP {access}"), &[proof]);
    assert_eq!(answer.status, 401);
    let lines = crate::common::logs::containing("(failed check: proof method (htm))");
    assert!(
        lines.iter().any(|line| line.contains("GET /protected")),
        "no log line names the check: {lines:?}"
    );
}

/// The nonce of `step` under `secret`, as the server makes it (a time step and a MAC over it):
/// what an attacker who knew the fleet's secret could make, here to send one from the future.
fn nonce_for(secret: &str, step: i64) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
    mac.update(b"rocket-flask-jwt dpop-nonce ");
    mac.update(&step.to_be_bytes());
    let mut nonce = step.to_be_bytes().to_vec();
    nonce.extend_from_slice(&mac.finalize().into_bytes()[..16]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(nonce)
}

#[test]
fn a_nonce_is_renewed_on_the_response_and_one_from_the_future_is_refused() {
    const SECRET: &str = "a nonce secret of at least 32 bytes";
    let client = extended(|builder| {
        builder
            .dpop_nonce(true)
            .dpop_nonce_secret(SECRET)
            .dpop_nonce_lifetime(std::time::Duration::from_secs(1))
    });
    let key = ClientKey::es256();
    let step = now();
    // The server's own nonce of this second, made from the shared secret as any instance does.
    let issued = Answer::of(
        client
            .post("/login")
            .header(Header::new("DPoP", key.proof("POST", &url("/login"), None)))
            .dispatch(),
    )
    .nonce
    .expect("a DPoP-Nonce");
    assert!(
        [nonce_for(SECRET, step), nonce_for(SECRET, step + 1)].contains(&issued),
        "the server's nonces are the step and its MAC"
    );
    let proof = |method: &str, path: &str, token: Option<&str>, nonce: &str| {
        key.proof_with(method, &url(path), token, |_, claims| {
            claims["nonce"] = json!(nonce)
        })
    };
    let login = Answer::of(
        client
            .post("/login")
            .header(Header::new(
                "DPoP",
                proof("POST", "/login", None, &nonce_for(SECRET, now())),
            ))
            .dispatch(),
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let access = login.json()["access_token"].as_str().unwrap().to_owned();
    let authorization = format!("DPoP {access}");
    // A nonce of the previous step is accepted, and the answer carries the current one.
    let previous = nonce_for(SECRET, now() - 1);
    let answer = get(
        &client,
        "/protected",
        &authorization,
        &[proof("GET", "/protected", Some(&access), &previous)],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let renewed = answer.nonce.expect("a renewed DPoP-Nonce on the 200");
    assert_ne!(renewed, previous);
    // Two steps old: expired. From the future, even with a genuine MAC: refused.
    for (nonce, words) in [
        (nonce_for(SECRET, now() - 5), "expired"),
        (nonce_for(SECRET, now() + 60), "from the future"),
    ] {
        let answer = get(
            &client,
            "/protected",
            &authorization,
            &[proof("GET", "/protected", Some(&access), &nonce)],
        );
        answer.refused("use_dpop_nonce", words);
        assert!(answer.nonce.is_some());
    }
}

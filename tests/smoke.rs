mod common;
use common::*;

#[test]
fn login_then_protected() {
    let client = client();
    let token = login(&client);
    let response = get_with(&client, "/protected", Some(&format!("JWT {token}")));
    assert_eq!(response.status().code, 200);
    assert_eq!(response.into_string().unwrap(), "success");
    let response = get_with(&client, "/protected", None);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(r#"JWT realm="Login Required""#)
    );
    assert_error(
        response,
        401,
        "Authorization Required",
        "Request does not contain an access token",
    );
    let hand = token_for(&claims(serde_json::json!(1)));
    let response = get_with(&client, "/protected", Some(&format!("JWT {hand}")));
    assert_eq!(response.status().code, 200);
}

//! `parse_authorization` on arbitrary header values: Flask-JWT's `header.split()` rules, for the
//! default prefix and a configured one. A panic or an answer other than the rules is a finding.
#![no_main]

use rocket_flask_jwt_runtime::testing::parse_authorization;
use libfuzzer_sys::fuzz_target;

fn check(value: &str, prefix: &str) {
    let words: Vec<&str> = value.split_whitespace().collect();
    match parse_authorization(value, prefix) {
        Ok(None) => assert!(words.is_empty(), "{value:?}"),
        Ok(Some(token)) => {
            assert_eq!(words.len(), 2, "{value:?}");
            assert!(words[0].eq_ignore_ascii_case(prefix), "{value:?}");
            assert_eq!(token, words[1]);
            assert!(!token.is_empty() && !token.contains(char::is_whitespace));
        }
        Err(error) => {
            assert_eq!(error.status.code, 401);
            assert_eq!(error.error, "Invalid JWT header");
            let expected = if !words[0].eq_ignore_ascii_case(prefix) {
                "Unsupported authorization type"
            } else if words.len() == 1 {
                "Token missing"
            } else {
                "Token contains spaces"
            };
            assert_eq!(error.description, expected, "{value:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    check(&value, "JWT");
    check(&value, "Bearer");
});

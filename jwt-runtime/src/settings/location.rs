//! [`Location`]: where a request may carry its token, a value of the `token_location` setting
//! and of a route's rules. Depends on nothing else of the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a request may carry its token (Flask-JWT-Extended's `JWT_TOKEN_LOCATION` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// `Authorization: Bearer <token>` (the `header_name` and `auth_header_prefix` settings).
    Headers,
    /// The access or refresh cookie, with a CSRF double-submit check on state-changing methods.
    Cookies,
    /// `?jwt=<token>` (the `query_string_name` and `query_string_value_prefix` settings).
    QueryString,
    /// `{"access_token": "<token>"}` in a JSON body (the `json_key` and `refresh_json_key`
    /// settings). Request guards see at most the first 512 bytes of a body: the token must be
    /// in a body that short.
    Json,
}

impl Location {
    /// Every location, in Flask-JWT-Extended's spelling order.
    pub const ALL: [Location; 4] = [
        Location::Headers,
        Location::Cookies,
        Location::QueryString,
        Location::Json,
    ];

    /// The name written in configuration and in error messages (`query_string`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Headers => "headers",
            Location::Cookies => "cookies",
            Location::QueryString => "query_string",
            Location::Json => "json",
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

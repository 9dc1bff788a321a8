//! The command line: its options, and the token's text from the argument or standard input.

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;

use clap::Parser;
use rocket_flask_jwt_runtime::settings::parse_algorithm;
use rocket_flask_jwt_runtime::{settings::SettingsError, Algorithm};

use crate::Fatal;

const ABOUT: &str = "Inspects a JWT offline, like the jwt.io debugger: prints its header and \
claims and runs the five checks of the API (well-formed, signature, validity period, intended \
authority, intended audience) with the API's own settings.";

const AFTER_HELP: &str = "\
Settings are read as the API reads them: the `jwt` table of Rocket.toml (the profile selected \
by ROCKET_PROFILE or --profile; ROCKET_CONFIG names another file) and the JWT_* environment \
variables (JWT_SECRET_KEY, JWT_ALGORITHM, JWT_LEEWAY, ...); the options above override them. \
There is deliberately no option taking the secret itself, which would show in `ps` and in the \
shell history: use --secret-file or JWT_SECRET_KEY.

Keys: --secret-file for HMAC tokens; --public-key, --jwks-url or --authority for tokens from an \
issuer; --signing-keys-dir for the tokens an application issues from its key ring (each key \
file a PEM private key preceded by its alg, published-at, signs-from and retires-at lines). \
A key source given as an option replaces a configured one of another kind. With a key ring, \
the report shows the token's key: its kid, algorithm, state now (pending, next, current, \
previous or retired, or not in the ring) and times; a token whose key is retired or unknown is \
refused, as the API refuses it.

The token is never sent anywhere; the only network access is fetching the configured JWKS.

Exit status: 0 when all five checks pass, 1 when any check fails or is skipped, 2 for usage or \
configuration errors.";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "jwt-inspect", version, about = ABOUT, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// The token; `-` or nothing reads it from standard input (keeps it out of `ps` and the shell
    /// history). Surrounding whitespace and a leading `JWT ` or `Bearer ` are ignored.
    pub(crate) token: Option<String>,

    /// File holding the HMAC secret (HS256/HS384/HS512); one trailing newline is ignored.
    #[arg(long, value_name = "PATH")]
    pub(crate) secret_file: Option<PathBuf>,

    /// Public key verifying RS*/PS*/ES*/EdDSA signatures: PEM, DER or JWK.
    #[arg(long, value_name = "PATH")]
    pub(crate) public_key: Option<PathBuf>,

    /// JWKS to take verification keys from.
    #[arg(long, value_name = "URL")]
    pub(crate) jwks_url: Option<String>,

    /// The token issuer's base URL: keys from its `.well-known/jwks.json`, and the default issuer.
    #[arg(long, value_name = "URL")]
    pub(crate) authority: Option<String>,

    /// Key directory of an application's key ring (`signing_keys_dir`): verifies the tokens it
    /// issued, offline, and shows the token's key and its state.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["jwks_url", "authority"])]
    pub(crate) signing_keys_dir: Option<PathBuf>,

    /// Expected `iss`, compared byte for byte (a trailing slash matters).
    #[arg(long, value_name = "ISS")]
    pub(crate) issuer: Option<String>,

    /// An accepted `aud` (repeatable; replaces the configured list).
    #[arg(long = "audience", value_name = "AUD")]
    pub(crate) audiences: Vec<String>,

    /// Clock skew allowed on exp, nbf and iat.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) leeway: Option<u64>,

    /// An accepted algorithm (repeatable; replaces the configured ones), e.g. HS256 or RS256.
    #[arg(long = "algorithm", value_name = "NAME", value_parser = parse_algorithm_arg)]
    pub(crate) algorithms: Vec<Algorithm>,

    /// The claim that holds the identity, e.g. `sub`.
    #[arg(long, value_name = "NAME")]
    pub(crate) identity_claim: Option<String>,

    /// The Rocket profile whose `jwt` table is read (default: ROCKET_PROFILE, else Rocket's).
    #[arg(long, value_name = "NAME", conflicts_with = "no_config")]
    pub(crate) profile: Option<String>,

    /// Read neither Rocket.toml nor the JWT_* environment variables: only the options count.
    #[arg(long)]
    pub(crate) no_config: bool,
}

fn parse_algorithm_arg(name: &str) -> Result<Algorithm, String> {
    parse_algorithm(name).map_err(|e| match e {
        SettingsError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    })
}

/// The raw token text, from the argument or from standard input.
pub(crate) fn read_token(argument: Option<&str>) -> Result<String, Fatal> {
    match argument {
        Some(token) if token != "-" => Ok(token.to_owned()),
        _ => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("jwt-inspect: reading the token from standard input (end with Ctrl-D)");
            }
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
            Ok(text)
        }
    }
}

/// Trims whitespace and a leading `Authorization:` header name and scheme word (`JWT`, `Bearer`
/// or the configured `auth_header_prefix`).
pub(crate) fn strip_scheme<'t>(raw: &'t str, prefix: &str) -> &'t str {
    let mut token = raw.trim();
    if let Some((name, rest)) = token.split_once(':')
        && name.trim().eq_ignore_ascii_case("authorization")
    {
        token = rest.trim();
    }
    if let Some((scheme, rest)) = token.split_once(char::is_whitespace)
        && ["JWT", "Bearer", prefix]
            .iter()
            .any(|known| scheme.eq_ignore_ascii_case(known))
    {
        token = rest.trim();
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_whitespace_are_stripped() {
        assert_eq!(strip_scheme("  a.b.c\n", "JWT"), "a.b.c");
        assert_eq!(strip_scheme("JWT a.b.c", "JWT"), "a.b.c");
        assert_eq!(strip_scheme("bearer  a.b.c", "JWT"), "a.b.c");
        assert_eq!(strip_scheme("Token a.b.c", "Token"), "a.b.c");
        assert_eq!(strip_scheme("Authorization: Bearer a.b.c", "JWT"), "a.b.c");
        assert_eq!(strip_scheme("Basic a.b.c", "JWT"), "Basic a.b.c");
    }
}

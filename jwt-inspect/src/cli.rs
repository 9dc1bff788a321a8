//! The command line: its options, the token's text from the argument or standard input, and
//! the DPoP proof's from its option or file.

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;

use clap::{ArgGroup, Parser};
use rocket_flask_jwt_runtime::settings::parse_algorithm;
use rocket_flask_jwt_runtime::{settings::SettingsError, Algorithm};

use crate::Fatal;

const ABOUT: &str = "Inspects a JWT offline, like the jwt.io debugger: prints its header and \
claims and runs the five checks of the API (well-formed, signature, validity period, intended \
authority, intended audience) with the API's own settings; with --dpop, also decodes the DPoP \
proof (RFC 9449) sent beside the token and runs the API's proof checks on it.";

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

DPoP (RFC 9449): --dpop PROOF or --dpop-file PATH gives the proof sent in the DPoP header beside \
the token. The report then shows its header and claims, the thumbprint of its key and the \
token's cnf.jkt, and one line per proof check, in the API's order, with the API's DPoP settings \
(dpop_algorithms, dpop_iat_window, dpop_nonce, ...): checks after a failing one are not run, and \
the replay check is never run (it needs the application's replay store). --method and --url name \
the request the proof was sent with; without them the proof's own htm and htu stand in, and the \
method and URL checks say they were not compared. The token counts as sent with the DPoP scheme \
unless its text names another scheme (`Bearer ...`).

The token is never sent anywhere; the only network access is fetching the configured JWKS.

Exit status: 0 when all five checks pass (and, with --dpop, no proof check fails), 1 when any \
check fails or a token check is skipped, 2 for usage or configuration errors.";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "jwt-inspect", version, about = ABOUT, after_help = AFTER_HELP)]
#[command(group(ArgGroup::new("proof").args(["dpop", "dpop_file"])))]
pub(crate) struct Cli {
    /// The token; `-` or nothing reads it from standard input (keeps it out of `ps` and the shell
    /// history). Surrounding whitespace and a leading `JWT `, `Bearer ` or `DPoP ` are ignored
    /// (with --dpop, a scheme other than `DPoP` fails the proof's scheme check).
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

    /// A DPoP proof (RFC 9449) sent with the token: decoded and checked beside it with the API's
    /// DPoP settings. A leading `DPoP:` header name is ignored.
    #[arg(long, value_name = "PROOF")]
    pub(crate) dpop: Option<String>,

    /// File holding the DPoP proof (surrounding whitespace ignored).
    #[arg(long, value_name = "PATH")]
    pub(crate) dpop_file: Option<PathBuf>,

    /// The method of the request the proof was sent with, compared with its `htm` (default: the
    /// proof's own `htm`, not compared).
    #[arg(long, value_name = "METHOD", requires = "proof")]
    pub(crate) method: Option<String>,

    /// The URL of the request the proof was sent with, compared with its `htu` (scheme, host,
    /// port and path; default: the proof's own `htu`, not compared).
    #[arg(long, value_name = "URL", requires = "proof")]
    pub(crate) url: Option<String>,
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

/// The DPoP proof's text (`--dpop` or `--dpop-file`), trimmed and without a leading `DPoP:`
/// header name; `None` without either option.
pub(crate) fn read_proof(cli: &Cli) -> Result<Option<String>, Fatal> {
    let text = match (&cli.dpop, &cli.dpop_file) {
        (Some(proof), _) => proof.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| format!("--dpop-file {}: cannot read: {e}", path.display()))?,
        (None, None) => return Ok(None),
    };
    let mut proof = text.trim();
    if let Some((name, rest)) = proof.split_once(':')
        && name.trim().eq_ignore_ascii_case("dpop")
    {
        proof = rest.trim();
    }
    if proof.is_empty() {
        return Err("the DPoP proof is empty".into());
    }
    Ok(Some(proof.to_owned()))
}

/// The scheme word `raw` names, if any, and the token: whitespace and a leading `Authorization:`
/// header name and scheme word (`JWT`, `Bearer`, `DPoP` or the configured `auth_header_prefix`)
/// trimmed off.
pub(crate) fn split_scheme<'t>(raw: &'t str, prefix: &str) -> (Option<&'t str>, &'t str) {
    let mut token = raw.trim();
    if let Some((name, rest)) = token.split_once(':')
        && name.trim().eq_ignore_ascii_case("authorization")
    {
        token = rest.trim();
    }
    if let Some((scheme, rest)) = token.split_once(char::is_whitespace)
        && ["JWT", "Bearer", "DPoP", prefix]
            .iter()
            .any(|known| scheme.eq_ignore_ascii_case(known))
    {
        return (Some(scheme), rest.trim());
    }
    (None, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_scheme<'t>(raw: &'t str, prefix: &str) -> &'t str {
        split_scheme(raw, prefix).1
    }

    #[test]
    fn schemes_and_whitespace_are_stripped() {
        assert_eq!(strip_scheme("  a.b.c\n", "JWT"), "a.b.c");
        assert_eq!(strip_scheme("JWT a.b.c", "JWT"), "a.b.c");
        assert_eq!(strip_scheme("bearer  a.b.c", "JWT"), "a.b.c");
        assert_eq!(strip_scheme("Token a.b.c", "Token"), "a.b.c");
        assert_eq!(strip_scheme("Authorization: Bearer a.b.c", "JWT"), "a.b.c");
        assert_eq!(strip_scheme("Basic a.b.c", "JWT"), "Basic a.b.c");
        assert_eq!(strip_scheme("DPoP a.b.c", "JWT"), "a.b.c");
        assert_eq!(
            split_scheme("Bearer a.b.c", "JWT"),
            (Some("Bearer"), "a.b.c")
        );
        assert_eq!(split_scheme(" a.b.c ", "JWT"), (None, "a.b.c"));
    }
}

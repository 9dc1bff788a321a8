//! The settings the API would use (Rocket's configuration), the command-line options over them,
//! and what they say about keys.

use std::path::Path;

use rocket::figment::Figment;
use rocket_flask_jwt_runtime::validation::{algorithm_name, minimum_secret_bytes, RING_ALGORITHMS};
use rocket_flask_jwt_runtime::{
    settings::KeyMaterial, settings::Secret, settings::SettingsError, validation::Verifier,
    Algorithm, Settings,
};

use crate::cli::Cli;
use crate::Fatal;

/// The settings the API would use: Rocket's configuration (`jwt` table and `JWT_*` variables).
pub(crate) fn configured_settings(cli: &Cli) -> Result<Settings, Fatal> {
    if cli.no_config {
        return Ok(Settings::default());
    }
    let mut figment: Figment = rocket::Config::figment();
    if let Some(profile) = &cli.profile {
        figment = figment.select(profile.as_str());
    }
    Settings::default()
        .with_rocket_config(&figment)
        .map_err(|e| Fatal(format!("configuration: {}", describe_settings_error(&e))))
}

/// A settings error, with the offending value left out when it is a secret's.
pub(crate) fn describe_settings_error(error: &SettingsError) -> String {
    if let SettingsError::Config(figment_error) = error {
        let secret = figment_error.path.iter().any(|segment| {
            let segment = segment.to_ascii_lowercase();
            segment.contains("secret") || segment.contains("private_key")
        });
        if secret {
            return format!(
                "invalid jwt configuration: `{}` must be a string (its value is not shown)",
                figment_error.path.join(".")
            );
        }
    }
    error.to_string()
}

/// The command-line options, over the configured settings.
pub(crate) fn apply_options(cli: &Cli, settings: &mut Settings) -> Result<(), Fatal> {
    if let Some(path) = &cli.secret_file {
        settings.secret_key = Some(read_secret_file(path)?);
    }
    if let Some(path) = &cli.public_key {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("--public-key {}: cannot read: {e}", path.display()))?;
        settings.public_key = Some(KeyMaterial::detect(bytes));
    }
    // A key source on the command line replaces a configured one of another kind (the API takes
    // a key ring or a JWKS, not both).
    if let Some(path) = &cli.signing_keys_dir {
        let directory = path.to_str().ok_or_else(|| {
            format!(
                "--signing-keys-dir {}: the path is not UTF-8",
                path.display()
            )
        })?;
        settings.signing_keys_dir = Some(directory.to_owned());
        let jwks_url = settings.jwks_url.take();
        let authority = settings.authority.take();
        if jwks_url.is_some() || authority.is_some() {
            eprintln!(
                "jwt-inspect: note: --signing-keys-dir replaces the configured JWKS \
                 (`jwks_url` / `authority`)"
            );
        }
    }
    if (cli.jwks_url.is_some() || cli.authority.is_some())
        && settings.signing_keys_dir.take().is_some()
    {
        let option = if cli.jwks_url.is_some() {
            "--jwks-url"
        } else {
            "--authority"
        };
        eprintln!(
            "jwt-inspect: note: {option} replaces the configured key ring (`signing_keys_dir`)"
        );
    }
    if let Some(url) = &cli.jwks_url {
        settings.jwks_url = Some(url.clone());
    }
    if let Some(url) = &cli.authority {
        settings.authority = Some(url.clone());
    }
    if let Some(issuer) = &cli.issuer {
        settings.issuer = Some(issuer.clone());
    }
    if !cli.audiences.is_empty() {
        settings.audience = cli.audiences.clone();
    }
    if let Some(seconds) = cli.leeway {
        settings.leeway = std::time::Duration::from_secs(seconds);
    }
    if !cli.algorithms.is_empty() {
        settings.algorithms = cli.algorithms.clone();
    }
    if let Some(claim) = &cli.identity_claim {
        settings.identity_claim = claim.clone();
    }
    // The inspector diagnoses tokens whatever the secret; whether a short secret is acceptable is
    // the API's decision (its ignition refuses one without `allow_short_secret`).
    if !settings.allow_short_secret
        && let Some((algorithm, minimum, length)) = too_short_for(settings).first()
    {
        eprintln!(
            "jwt-inspect: note: the secret has {length} bytes, fewer than the {minimum} {} \
                 needs: the API refuses it unless `allow_short_secret` is set (signatures are \
                 checked with it here all the same)",
            algorithm_name(*algorithm)
        );
    }
    // A JWKS holds public keys: with no algorithm chosen, assume RS256 (Auth0's and most OIDC
    // providers' default) rather than the HS256 default, which the API would refuse with a JWKS.
    let jwks = settings.jwks_url.is_some() || settings.authority.is_some();
    if jwks && settings.algorithms.is_empty() && is_hmac(settings.algorithm) {
        eprintln!("note: a JWKS is configured and no algorithm: assuming RS256 (pass --algorithm)");
        settings.algorithm = Algorithm::RS256;
    }
    settings
        .validate()
        .map_err(|e| Fatal(describe_settings_error(&e)))
}

/// The secret in `path` (`--secret-file`), one trailing newline dropped.
fn read_secret_file(path: &Path) -> Result<Secret, Fatal> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("--secret-file {}: cannot read: {e}", path.display()))?;
    let mut text = String::from_utf8(bytes)
        .map_err(|_| format!("--secret-file {}: not UTF-8 text", path.display()))?;
    // One trailing newline, as `echo` and editors leave it.
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err(format!("--secret-file {}: the file is empty", path.display()).into());
    }
    Ok(Secret::new(text))
}

/// The HMAC algorithms of `settings` (the signing one and the accepted ones) that its secret is
/// too short for (RFC 7518 §3.2), each with the bytes it needs and the secret's length.
fn too_short_for(settings: &Settings) -> Vec<(Algorithm, usize, usize)> {
    let Some(secret) = &settings.secret_key else {
        return Vec::new();
    };
    let length = secret.expose().len();
    let mut algorithms = accepted(settings);
    algorithms.push(settings.algorithm);
    let mut short: Vec<(Algorithm, usize, usize)> = Vec::new();
    for algorithm in algorithms.into_iter().filter(|a| is_hmac(*a)) {
        let minimum = minimum_secret_bytes(algorithm);
        if length < minimum && !short.iter().any(|(seen, _, _)| *seen == algorithm) {
            short.push((algorithm, minimum, length));
        }
    }
    short.sort_by_key(|(_, minimum, _)| *minimum);
    short
}

/// The validation of `settings`' tokens, resolved as the API's fairing resolves it at ignition
/// (OIDC discovery, several trusted authorities). A secret too short for the API is used all the
/// same (the note printed by [`apply_options`] says the API refuses it): `allow_short_secret` is
/// set here only, and the runtime's warning, which would blame that setting on the user's
/// configuration, is not shown.
pub(crate) async fn verifier(mut settings: Settings) -> Result<Verifier, Fatal> {
    let forced = !settings.allow_short_secret && !too_short_for(&settings).is_empty();
    if !forced {
        return Verifier::resolve(settings)
            .await
            .map_err(|e| Fatal(describe_settings_error(&e)));
    }
    settings.allow_short_secret = true;
    // Building the keys only warns about a short secret; errors still show.
    let level = log::max_level();
    log::set_max_level(log::LevelFilter::Error);
    let verifier = Verifier::resolve(settings).await;
    log::set_max_level(level);
    verifier.map_err(|e| Fatal(describe_settings_error(&e)))
}

/// Whether `settings` has keys of its own besides a key ring (a migration window's).
fn has_static_keys(settings: &Settings) -> bool {
    settings.secret_key.is_some() || settings.public_key.is_some()
}

/// The algorithms a token may be signed with; with a key ring, as the API accepts them: those of
/// its keys, and the configured ones only while static keys are kept beside it.
pub(crate) fn accepted(settings: &Settings) -> Vec<Algorithm> {
    let mut accepted = if settings.algorithms.is_empty() {
        vec![settings.algorithm]
    } else {
        settings.algorithms.clone()
    };
    if settings.signing_keys_dir.is_some() {
        if !has_static_keys(settings) {
            accepted.clear();
        }
        for algorithm in RING_ALGORITHMS {
            if !accepted.contains(&algorithm) {
                accepted.push(algorithm);
            }
        }
    }
    accepted
}

/// Whether `algorithm` is an HMAC one (keyed by the secret).
fn is_hmac(algorithm: Algorithm) -> bool {
    algorithm_name(algorithm).starts_with("HS")
}

/// Whether a key for `algorithm` is configured at all (it may still be unusable). Trusted
/// authorities always have keys (a JWKS, derived from the issuer when not given, or a key), and
/// a key ring has the asymmetric algorithms (a token whose key it lacks is refused).
pub(crate) fn has_key(settings: &Settings, algorithm: Algorithm) -> bool {
    if !settings.authorities.is_empty()
        || (settings.signing_keys_dir.is_some() && RING_ALGORITHMS.contains(&algorithm))
    {
        true
    } else if is_hmac(algorithm) {
        settings.secret_key.is_some()
    } else {
        settings.public_key.is_some() || settings.jwks_url.is_some() || settings.authority.is_some()
    }
}

/// What to pass to verify `algorithm`'s signatures.
pub(crate) fn key_hint(algorithm: Algorithm) -> String {
    let name = algorithm_name(algorithm);
    if is_hmac(algorithm) {
        format!(
            "no secret to verify {name} signatures: pass --secret-file PATH \
             (or set JWT_SECRET_KEY, or `secret_key` in the `jwt` table of Rocket.toml)"
        )
    } else {
        format!(
            "no key to verify {name} signatures: pass --public-key PATH (PEM, DER or JWK), \
             --jwks-url URL, --authority URL or --signing-keys-dir PATH"
        )
    }
}

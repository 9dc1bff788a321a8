//! `jwt-inspect`: the jwt.io debugger, offline.
//!
//! Decodes a token, prints its header and claims (NumericDate claims annotated with their UTC time
//! and how long ago or ahead they are), then runs the five checks of the API with the API's own
//! settings and prints one line per check. Install it with `cargo install --path jwt-inspect`, or
//! run it from the workspace with `cargo run -p jwt-inspect -- --help`.
//!
//! The token is never sent anywhere; the only network access is fetching the configured JWKS.
//! Neither the token's signature key nor the secret is ever printed.

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use jwt_runtime::testing::{
    algorithm_name, minimum_secret_bytes, now, numeric_date, parse_algorithm,
};
use jwt_runtime::{
    Algorithm, Check, CheckReport, Inspection, JwtError, KeyMaterial, Payload, Secret, Settings,
    SettingsError, TokenCodec, Verdict,
};
use rocket::figment::Figment;
use serde_json::Value;

const ABOUT: &str = "Inspects a JWT offline, like the jwt.io debugger: prints its header and \
claims and runs the five checks of the API (well-formed, signature, validity period, intended \
authority, intended audience) with the API's own settings.";

const AFTER_HELP: &str = "\
Settings are read as the API reads them: the `jwt` table of Rocket.toml (the profile selected \
by ROCKET_PROFILE or --profile; ROCKET_CONFIG names another file) and the JWT_* environment \
variables (JWT_SECRET_KEY, JWT_ALGORITHM, JWT_LEEWAY, ...); the options above override them. \
There is deliberately no option taking the secret itself, which would show in `ps` and in the \
shell history: use --secret-file or JWT_SECRET_KEY.

The token is never sent anywhere; the only network access is fetching the configured JWKS.

Exit status: 0 when all five checks pass, 1 when any check fails or is skipped, 2 for usage or \
configuration errors.";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "jwt-inspect", version, about = ABOUT, after_help = AFTER_HELP)]
struct Cli {
    /// The token; `-` or nothing reads it from standard input (keeps it out of `ps` and the shell
    /// history). Surrounding whitespace and a leading `JWT ` or `Bearer ` are ignored.
    token: Option<String>,

    /// File holding the HMAC secret (HS256/HS384/HS512); one trailing newline is ignored.
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,

    /// Public key verifying RS*/PS*/ES*/EdDSA signatures: PEM, DER or JWK.
    #[arg(long, value_name = "PATH")]
    public_key: Option<PathBuf>,

    /// JWKS to take verification keys from.
    #[arg(long, value_name = "URL")]
    jwks_url: Option<String>,

    /// The token issuer's base URL: keys from its `.well-known/jwks.json`, and the default issuer.
    #[arg(long, value_name = "URL")]
    authority: Option<String>,

    /// Expected `iss`, compared byte for byte (a trailing slash matters).
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,

    /// An accepted `aud` (repeatable; replaces the configured list).
    #[arg(long = "audience", value_name = "AUD")]
    audiences: Vec<String>,

    /// Clock skew allowed on exp, nbf and iat.
    #[arg(long, value_name = "SECONDS")]
    leeway: Option<u64>,

    /// An accepted algorithm (repeatable; replaces the configured ones), e.g. HS256 or RS256.
    #[arg(long = "algorithm", value_name = "NAME", value_parser = parse_algorithm_arg)]
    algorithms: Vec<Algorithm>,

    /// The claim that holds the identity, e.g. `sub`.
    #[arg(long, value_name = "NAME")]
    identity_claim: Option<String>,

    /// The Rocket profile whose `jwt` table is read (default: ROCKET_PROFILE, else Rocket's).
    #[arg(long, value_name = "NAME", conflicts_with = "no_config")]
    profile: Option<String>,

    /// Read neither Rocket.toml nor the JWT_* environment variables: only the options count.
    #[arg(long)]
    no_config: bool,
}

fn parse_algorithm_arg(name: &str) -> Result<Algorithm, String> {
    parse_algorithm(name).map_err(|e| match e {
        SettingsError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    })
}

/// A usage or configuration error: printed on stderr, exit status 2.
#[derive(Debug)]
struct Fatal(String);

impl<T: std::fmt::Display> From<T> for Fatal {
    fn from(message: T) -> Self {
        Fatal(message.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = log::set_logger(&STDERR_LOGGER);
    log::set_max_level(log::LevelFilter::Warn);
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Fatal(message)) => {
            eprintln!("jwt-inspect: error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Inspects the token; `Ok(true)` when all five checks pass.
fn run(cli: Cli) -> Result<bool, Fatal> {
    let raw = read_token(cli.token.as_deref())?;
    let mut settings = configured_settings(&cli)?;
    apply_options(&cli, &mut settings)?;
    let token = strip_scheme(&raw, &settings.auth_header_prefix);
    if token.is_empty() {
        return Err("no token given: pass it as the argument or on standard input".into());
    }

    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let inspection = runtime.block_on(inspect(settings, token))?;
    print_inspection(&inspection);
    Ok(all_passed(&inspection))
}

/// The raw token text, from the argument or from standard input.
fn read_token(argument: Option<&str>) -> Result<String, Fatal> {
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
fn strip_scheme<'t>(raw: &'t str, prefix: &str) -> &'t str {
    let mut token = raw.trim();
    if let Some((name, rest)) = token.split_once(':') {
        if name.trim().eq_ignore_ascii_case("authorization") {
            token = rest.trim();
        }
    }
    if let Some((scheme, rest)) = token.split_once(char::is_whitespace) {
        if ["JWT", "Bearer", prefix]
            .iter()
            .any(|known| scheme.eq_ignore_ascii_case(known))
        {
            token = rest.trim();
        }
    }
    token
}

/// The settings the API would use: Rocket's configuration (`jwt` table and `JWT_*` variables).
fn configured_settings(cli: &Cli) -> Result<Settings, Fatal> {
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
fn describe_settings_error(error: &SettingsError) -> String {
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
fn apply_options(cli: &Cli, settings: &mut Settings) -> Result<(), Fatal> {
    if let Some(path) = &cli.secret_file {
        settings.secret_key = Some(read_secret_file(path)?);
    }
    if let Some(path) = &cli.public_key {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("--public-key {}: cannot read: {e}", path.display()))?;
        settings.public_key = Some(KeyMaterial::detect(bytes));
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
    if !settings.allow_short_secret {
        if let Some((algorithm, minimum, length)) = too_short_for(settings).first() {
            eprintln!(
                "jwt-inspect: note: the secret has {length} bytes, fewer than the {minimum} {} \
                 needs: the API refuses it unless `allow_short_secret` is set (signatures are \
                 checked with it here all the same)",
                algorithm_name(*algorithm)
            );
        }
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

/// The codec checking `settings`' tokens. A secret too short for the API is used all the same
/// (the note printed by [`apply_options`] says the API refuses it): `allow_short_secret` is set
/// here for the codec only, and the runtime's warning, which would blame that setting on the
/// user's configuration, is not shown.
fn keyed_codec(mut settings: Settings) -> Result<TokenCodec, Fatal> {
    let forced = !settings.allow_short_secret && !too_short_for(&settings).is_empty();
    if !forced {
        return TokenCodec::new(settings).map_err(|e| Fatal(describe_settings_error(&e)));
    }
    settings.allow_short_secret = true;
    // Building a codec only warns about a short secret; errors still show.
    let level = log::max_level();
    log::set_max_level(log::LevelFilter::Error);
    let codec = TokenCodec::new(settings);
    log::set_max_level(level);
    codec.map_err(|e| Fatal(describe_settings_error(&e)))
}

/// The algorithms a token may be signed with.
fn accepted(settings: &Settings) -> Vec<Algorithm> {
    if settings.algorithms.is_empty() {
        vec![settings.algorithm]
    } else {
        settings.algorithms.clone()
    }
}

fn is_hmac(algorithm: Algorithm) -> bool {
    algorithm_name(algorithm).starts_with("HS")
}

/// Whether a key for `algorithm` is configured at all (it may still be unusable).
fn has_key(settings: &Settings, algorithm: Algorithm) -> bool {
    if is_hmac(algorithm) {
        settings.secret_key.is_some()
    } else {
        settings.public_key.is_some() || settings.jwks_url.is_some() || settings.authority.is_some()
    }
}

/// What to pass to verify `algorithm`'s signatures.
fn key_hint(algorithm: Algorithm) -> String {
    let name = algorithm_name(algorithm);
    if is_hmac(algorithm) {
        format!(
            "no secret to verify {name} signatures: pass --secret-file PATH \
             (or set JWT_SECRET_KEY, or `secret_key` in the `jwt` table of Rocket.toml)"
        )
    } else {
        format!(
            "no key to verify {name} signatures: pass --public-key PATH (PEM, DER or JWK), \
             --jwks-url URL or --authority URL"
        )
    }
}

/// Runs the five checks. When the token's algorithm has no key configured, the header and
/// claims are still decoded and every key-independent check still runs; the signature check is
/// skipped with a hint naming the option to pass.
async fn inspect(mut settings: Settings, token: &str) -> Result<Inspection, Fatal> {
    let accepted = accepted(&settings);
    let (usable, missing): (Vec<Algorithm>, Vec<Algorithm>) = accepted
        .iter()
        .partition(|&&algorithm| has_key(&settings, algorithm));

    // A codec that needs no key: the same pipeline with signature checks turned off, which
    // decodes the header (for its `alg`) and runs every check that needs no key.
    let keyless = TokenCodec::new(Settings {
        // 64 bytes: long enough for HS512, so no short-secret warning is logged for it.
        secret_key: Some(Secret::new(
            "jwt-inspect: no key is configured; this stand-in verifies nothing",
        )),
        private_key: None,
        public_key: None,
        algorithm: Algorithm::HS256,
        algorithms: vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
        verify_claims: settings
            .verify_claims
            .iter()
            .filter(|claim| *claim != "signature")
            .cloned()
            .collect(),
        issuer: settings
            .issuer
            .clone()
            .or_else(|| settings.authority.clone()),
        authority: None,
        jwks_url: None,
        oidc_discovery: false,
        ..settings.clone()
    })
    .map_err(|e| Fatal(describe_settings_error(&e)))?;
    let mut inspection = keyless.inspect(token).await;
    let header_alg: Option<String> = inspection
        .header
        .as_ref()
        .and_then(|header| Some(header.get("alg")?.as_str()?.to_owned()));
    let token_alg: Option<Algorithm> = header_alg.as_deref().and_then(|alg| {
        accepted
            .iter()
            .copied()
            .find(|&algorithm| algorithm_name(algorithm) == alg)
    });

    let keyed = match token_alg {
        _ if missing.is_empty() => true,
        Some(alg) => !missing.contains(&alg),
        None => !usable.is_empty(),
    };
    if keyed {
        if !missing.is_empty() {
            let left_out: Vec<_> = missing.iter().map(|a| algorithm_name(*a)).collect();
            eprintln!(
                "jwt-inspect: note: no key for {}: left out of the accepted algorithms",
                left_out.join(", ")
            );
            settings.algorithms = usable;
        }
        let codec = keyed_codec(settings)?;
        return Ok(codec.inspect(token).await);
    }

    // The signature was not checked: say what to pass, or that the API refuses the `alg`
    // whatever the keys.
    let signature = match (&header_alg, token_alg) {
        (Some(alg), None) => {
            let names: Vec<_> = accepted.iter().map(|a| algorithm_name(*a)).collect();
            let error =
                JwtError::invalid_token(Check::Signature, "The specified alg value is not allowed")
                    .with_detail(format!(
                        "token alg {alg:?}, accepted {names:?}: pass --algorithm {alg} and its key"
                    ));
            inspection.first_failure.get_or_insert(error.clone());
            Verdict::Failed(error)
        }
        _ => Verdict::Skipped(key_hint(token_alg.unwrap_or(missing[0]))),
    };
    for report in &mut inspection.checks {
        if report.check == Check::Signature && matches!(report.verdict, Verdict::Skipped(_)) {
            report.verdict = signature.clone();
        }
    }
    Ok(inspection)
}

/// The claims holding NumericDates (seconds since the epoch).
const TIME_CLAIMS: [&str; 4] = ["exp", "nbf", "iat", "auth_time"];

fn print_inspection(inspection: &Inspection) {
    let now = now();
    match &inspection.header {
        Some(header) => println!("Header:\n{}", pretty(header)),
        None => println!("Header: (not decoded: the token is not well-formed)"),
    }
    println!();
    match &inspection.claims {
        Some(claims) => {
            println!("Claims:\n{}", pretty(claims));
            for claim in TIME_CLAIMS {
                if let Some(value) = claims.get(claim) {
                    println!("  {claim}: {}", describe_time(claim, value, now));
                }
            }
        }
        None if inspection.header.is_some() => {
            println!("Claims: (not decoded: not a JSON object)");
        }
        None => println!("Claims: (not decoded: the token is not well-formed)"),
    }
    println!();
    println!("Checks:");
    for report in &inspection.checks {
        println!("{}", check_line(report));
    }
    println!();
    let names = |wanted: fn(&Verdict) -> bool| {
        inspection
            .checks
            .iter()
            .filter(|report| wanted(&report.verdict))
            .map(|report| report.check.as_str())
            .collect::<Vec<_>>()
    };
    if all_passed(inspection) {
        println!("Result: valid: all five checks passed");
    } else {
        let failed = names(|o| matches!(o, Verdict::Failed(_)));
        let skipped = names(|o| matches!(o, Verdict::Skipped(_)));
        let mut parts = Vec::new();
        if !failed.is_empty() {
            parts.push(format!("failed {}", failed.join(", ")));
        }
        if !skipped.is_empty() {
            parts.push(format!("skipped {}", skipped.join(", ")));
        }
        println!("Result: invalid: {}", parts.join("; "));
    }
}

/// Whether each of the five checks ran and passed (a skipped check is not a pass here).
fn all_passed(inspection: &Inspection) -> bool {
    inspection
        .checks
        .iter()
        .all(|report| matches!(report.verdict, Verdict::Passed(_)))
}

fn pretty(object: &Payload) -> String {
    serde_json::to_string_pretty(object).unwrap_or_else(|_| format!("{object:?}"))
}

/// `[PASS] well-formed: ...`: the check's name and the outcome's text without its own prefix.
fn check_line(report: &CheckReport) -> String {
    let (tag, prefix) = match report.verdict {
        Verdict::Passed(_) => ("PASS", "passed: "),
        Verdict::Failed(_) => ("FAIL", "FAILED: "),
        Verdict::Skipped(_) => ("SKIP", "skipped: "),
    };
    let text = report.verdict.to_string();
    let text = text.strip_prefix(prefix).unwrap_or(&text);
    format!("[{tag}] {}: {text}", report.check.as_str())
}

/// `2025-11-23T12:00:00Z (expires in 4 min 59 s)` for a NumericDate claim.
fn describe_time(claim: &str, value: &Value, now: i64) -> String {
    let Some(seconds) = numeric_date(value) else {
        return format!("{value} is not a NumericDate (seconds since 1970-01-01T00:00:00Z)");
    };
    let utc = time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{seconds} (out of range)"));
    let delta = seconds.saturating_sub(now);
    let ago = human_duration(delta.unsigned_abs());
    let relative = match (claim, delta.signum()) {
        ("exp", 1) => format!("expires in {ago}"),
        ("exp", _) => format!("expired {ago} ago"),
        ("nbf", 1) => format!("valid in {ago}"),
        ("nbf", _) => format!("valid since {ago} ago"),
        ("iat", 1) => format!("issued in the future, in {ago}"),
        ("iat", _) => format!("issued {ago} ago"),
        (_, 1) => format!("in {ago}"),
        _ => format!("{ago} ago"),
    };
    format!("{utc} ({relative})")
}

/// `4 min 59 s`, `2 h 5 min`, `3 d 4 h`: the two largest units.
fn human_duration(seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")];
    let mut rest = seconds;
    let mut parts = Vec::new();
    for (size, unit) in UNITS {
        let count = rest / size;
        rest %= size;
        if count > 0 || (!parts.is_empty() && parts.len() < 2) {
            parts.push((count, unit));
        }
        if parts.len() == 2 {
            break;
        }
    }
    let parts: Vec<String> = parts
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, unit)| format!("{count} {unit}"))
        .collect();
    if parts.is_empty() {
        "0 s".into()
    } else {
        parts.join(" ")
    }
}

/// Prints the runtime's warnings (unknown settings, JWKS trouble) on stderr.
struct StderrLogger;

static STDERR_LOGGER: StderrLogger = StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                log::Level::Error => "error",
                _ => "warning",
            };
            eprintln!("jwt-inspect: {level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_the_two_largest_units() {
        assert_eq!(human_duration(0), "0 s");
        assert_eq!(human_duration(59), "59 s");
        assert_eq!(human_duration(299), "4 min 59 s");
        assert_eq!(human_duration(300), "5 min");
        assert_eq!(human_duration(3_600), "1 h");
        assert_eq!(human_duration(3_661), "1 h 1 min");
        assert_eq!(human_duration(90_061), "1 d 1 h");
    }

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

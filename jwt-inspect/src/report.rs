//! The report: header and claims (NumericDates annotated), the token's key when keys come from
//! a key ring, one line per check, the result; then, with a DPoP proof, the same for the proof.

use rocket_flask_jwt_runtime::validation::{
    algorithm_name, now, numeric_date, KeyRing, KeyState, RingKey,
};
use rocket_flask_jwt_runtime::{
    validation::CheckReport, validation::Inspection, validation::Verdict, Payload,
};
use serde_json::Value;

use crate::dpop::{Outcome, ProofFindings};

/// The claims holding NumericDates (seconds since the epoch).
const TIME_CLAIMS: [&str; 4] = ["exp", "nbf", "iat", "auth_time"];

/// Prints the report; `key_ring`, when keys come from one, adds the line on the token's key.
pub(crate) fn print_inspection(inspection: &Inspection, key_ring: Option<&KeyRing>) {
    let now = now();
    match &inspection.header {
        Some(header) => println!("Header:\n{}", pretty(header)),
        None => println!("Header: (not decoded: the token is not well-formed)"),
    }
    println!();
    match &inspection.claims {
        Some(claims) => {
            println!("Claims:\n{}", pretty(claims));
            print_times(claims, now);
        }
        None if inspection.header.is_some() => {
            println!("Claims: (not decoded: not a JSON object)");
        }
        None => println!("Claims: (not decoded: the token is not well-formed)"),
    }
    println!();
    if let (Some(ring), Some(header)) = (key_ring, &inspection.header) {
        println!("{}", key_line(ring, header, now));
        println!();
    }
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

/// Prints the DPoP section: the proof's header and claims, its key's thumbprint and the token's
/// `cnf.jkt`, one line per proof check, the result.
pub(crate) fn print_proof(findings: &ProofFindings) {
    let now = now();
    println!();
    println!("DPoP proof (RFC 9449):");
    println!();
    match &findings.parts {
        Some((header, claims)) => {
            println!("Proof header:\n{}", pretty(header));
            println!();
            println!("Proof claims:\n{}", pretty(claims));
            print_times(claims, now);
        }
        None => println!(
            "Proof header and claims: (not decoded: the proof is not a JWS of a JSON header and \
             JSON claims)"
        ),
    }
    println!();
    match &findings.thumbprint {
        Some(thumbprint) => println!("Proof key thumbprint (RFC 7638): {thumbprint}"),
        None => println!(
            "Proof key thumbprint (RFC 7638): (none: the proof's key or signature is refused)"
        ),
    }
    match (&findings.bound_to, &findings.thumbprint) {
        (Some(jkt), Some(thumbprint)) if jkt == thumbprint => {
            println!("Token cnf.jkt: {jkt} (the proof's key)");
        }
        (Some(jkt), Some(_)) => println!("Token cnf.jkt: {jkt} (another key than the proof's)"),
        (Some(jkt), None) => println!("Token cnf.jkt: {jkt}"),
        (None, _) => println!(
            "Token cnf.jkt: (none: the token is not bound to a key, and the API refuses it with \
             the DPoP scheme)"
        ),
    }
    println!();
    println!("Proof checks:");
    for (check, outcome) in &findings.checks {
        let (tag, text) = match outcome {
            Outcome::Passed(text) => ("PASS", text),
            Outcome::Failed(text) => ("FAIL", text),
            Outcome::Skipped(text) => ("SKIP", text),
        };
        println!("[{tag}] {}: {text}", check.as_str());
    }
    println!();
    let names = |wanted: fn(&Outcome) -> bool| {
        findings
            .checks
            .iter()
            .filter(|(_, outcome)| wanted(outcome))
            .map(|(check, _)| check.as_str())
            .collect::<Vec<_>>()
    };
    let failed = names(|o| matches!(o, Outcome::Failed(_)));
    if failed.is_empty() {
        let skipped = names(|o| matches!(o, Outcome::Skipped(_)));
        println!(
            "Proof result: valid: no check failed (not run here: {})",
            skipped.join(", ")
        );
    } else {
        println!("Proof result: invalid: failed {}", failed.join(", "));
    }
}

/// The NumericDate claims of `claims`, annotated.
fn print_times(claims: &Payload, now: i64) {
    for claim in TIME_CLAIMS {
        if let Some(value) = claims.get(claim) {
            println!("  {claim}: {}", describe_time(claim, value, now));
        }
    }
}

/// Whether each of the five checks ran and passed (a skipped check is not a pass here).
pub(crate) fn all_passed(inspection: &Inspection) -> bool {
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

/// `Key: kid "…" (ES256) of the key ring: current, signs the tokens issued now; published at …`:
/// the key the token names, its state now (as the API computes it, so a retired or unknown key
/// is refused by the checks below), and its times.
fn key_line(ring: &KeyRing, header: &Payload, now: i64) -> String {
    let Some(kid) = header.get("kid").and_then(Value::as_str) else {
        return "Key: the token names no key of the key ring (no kid): none of its keys verifies \
                it"
        .into();
    };
    // The kid is the token's own text: shown as far as a thumbprint goes, escaped.
    let shown: String = kid.chars().take(64).collect();
    let Some(key) = ring.keys().iter().find(|key| key.kid() == kid) else {
        let held = ring.keys().len();
        return format!(
            "Key: kid {shown:?} is not in the key ring ({held} key{} read): not a key of this \
             application, or removed; the token is refused",
            if held == 1 { "" } else { "s" }
        );
    };
    let alg = algorithm_name(key.algorithm());
    let state = ring.state(kid, now).unwrap_or(KeyState::Retired);
    let mut line = format!(
        "Key: kid {shown:?} ({alg}) of the key ring: {}",
        describe_state(key, state, now)
    );
    let token_alg = header.get("alg").and_then(Value::as_str);
    if let Some(token_alg) = token_alg.filter(|token_alg| *token_alg != alg) {
        line.push_str(&format!(
            "; the token's alg {token_alg:?} is not the key's, so the key does not verify it"
        ));
    }
    let times = key.times();
    let retires = match times.retires_at {
        Some(at) => format!("retires at {}", moment(at, now)),
        None => "retires when its tokens have expired".into(),
    };
    line.push_str(&format!(
        "; published at {}, signs from {}, {retires}",
        moment(times.published_at, now),
        moment(times.signs_from, now)
    ));
    line
}

/// A key's state, and what it means for its tokens.
fn describe_state(key: &RingKey, state: KeyState, now: i64) -> String {
    match state {
        KeyState::Pending => "pending: not published yet, so its tokens are refused".into(),
        KeyState::Next => "next: published, not signing yet; its tokens verify".into(),
        KeyState::Current => "current: signs the tokens issued now".into(),
        KeyState::Previous => {
            "previous: a later key signs; its tokens verify until it retires".into()
        }
        KeyState::Retired => {
            let why = match key.times().retires_at {
                Some(at) if now >= at => "its retires-at time has passed",
                _ => "a later key took over and every token it signed has expired",
            };
            format!("retired: {why}, so it is gone from the key set and its tokens are refused")
        }
    }
}

/// `2026-12-06T00:00:00Z (1 h ago)`; a time a key file leaves unset is the start of time.
fn moment(seconds: i64, now: i64) -> String {
    if seconds == i64::MIN {
        return "the start (not set)".into();
    }
    let delta = seconds.saturating_sub(now);
    let span = human_duration(delta.unsigned_abs());
    if delta > 0 {
        format!("{} (in {span})", utc(seconds))
    } else {
        format!("{} ({span} ago)", utc(seconds))
    }
}

/// `2025-11-23T12:00:00Z`.
fn utc(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{seconds} (out of range)"))
}

/// `2025-11-23T12:00:00Z (expires in 4 min 59 s)` for a NumericDate claim.
fn describe_time(claim: &str, value: &Value, now: i64) -> String {
    let Some(seconds) = numeric_date(value) else {
        return format!("{value} is not a NumericDate (seconds since 1970-01-01T00:00:00Z)");
    };
    let utc = utc(seconds);
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
pub(crate) fn human_duration(seconds: u64) -> String {
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
}

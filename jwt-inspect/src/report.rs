//! The report: header and claims (NumericDates annotated), one line per check, the result.

use rocket_flask_jwt_runtime::validation::{now, numeric_date};
use rocket_flask_jwt_runtime::{
    validation::CheckReport, validation::Inspection, validation::Verdict, Payload,
};
use serde_json::Value;

/// The claims holding NumericDates (seconds since the epoch).
const TIME_CLAIMS: [&str; 4] = ["exp", "nbf", "iat", "auth_time"];

pub(crate) fn print_inspection(inspection: &Inspection) {
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

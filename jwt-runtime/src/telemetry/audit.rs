//! Audit records (the `audit_log` setting): one `log` record per security event, at level info
//! under the target [`TARGET`], whose key-values are the event's fields and whose message is the
//! same fields as `key=value` pairs (`text`) or as one JSON object (`json`).
//!
//! The fields are fixed names with values from fixed sets (the event, the metrics' reason, the
//! DPoP check, the method, the profile), from the application (the route's URI template, our own
//! key ids), from Rocket (the client's address, parsed), and the subject of a verified or issued
//! token. Never a token, a secret, a CSRF value, a DPoP proof, or anything of a refused token:
//! a refusal's record holds no subject and no `jti`.
//!
//! Nothing is formatted when `audit_log` is off (the callers hold an `Option<Audit>`), nor when
//! the logger takes no info records of the target.

use std::fmt::Write as _;

use log::kv::{self, Key, Source, Value, VisitSource};
use log::{Level, Log, Metadata, Record};
use rocket::Request;
use serde::ser::{Serialize, Serializer};

use super::Reason;
use crate::error::{JwtError, ProofCheck};
use crate::settings::{AuditLog, Settings};

/// The target of every audit record.
pub(crate) const TARGET: &str = "jwt::audit";

/// The audit records of one application, in the form `audit_log` chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Audit {
    json: bool,
    profile: &'static str,
}

impl Audit {
    /// The audit of `settings`; `None` when `audit_log` is off.
    pub(crate) fn new(settings: &Settings) -> Option<Audit> {
        let json = match settings.audit_log {
            AuditLog::Off => return None,
            AuditLog::Text => false,
            AuditLog::Json => true,
        };
        Some(Audit {
            json,
            profile: settings.profile.as_str(),
        })
    }

    /// A protected request (or a login's DPoP proof) refused: the metrics' reason, and the DPoP
    /// check that failed. Nothing of the token.
    pub(crate) fn refusal(&self, request: &Request<'_>, error: &JwtError) {
        self.of_request(request, refusal(error));
    }

    /// Tokens issued by a login, for `subject` (the issued token's identity claim).
    pub(crate) fn login(&self, request: &Request<'_>, subject: Option<&str>) {
        self.of_request(request, Fields::of_subject("login", subject));
    }

    /// A refresh route's request that got through, with a verified token of `subject`.
    pub(crate) fn refresh(&self, request: &Request<'_>, subject: Option<&str>) {
        self.of_request(request, Fields::of_subject("refresh", subject));
    }

    /// A replaced refresh token of `subject` (verified) presented again: its family is revoked.
    pub(crate) fn refresh_token_reuse(&self, request: &Request<'_>, subject: Option<&str>) {
        let fields = Fields::of_subject("refresh_token_reuse", subject);
        self.of_request(request, fields);
    }

    /// A token of `subject` (its verified claims') revoked: a logout.
    pub(crate) fn logout(&self, subject: Option<&str>) {
        self.write(Fields::of_subject("logout", subject));
    }

    /// Every token of `subject` (the application's own value) revoked.
    pub(crate) fn subject_revoked(&self, subject: &str) {
        self.write(Fields::of_subject("subject_revoked", Some(subject)));
    }

    /// A signing key `kid` created in the key ring.
    // The key ring on Redis (`app/key_rotation.rs`) only.
    #[cfg_attr(not(all(feature = "redis", feature = "aws-lc-rs")), allow(dead_code))]
    pub(crate) fn key_created(&self, kid: &str) {
        self.write(Fields::of_key("key_created", kid));
    }

    /// A retired signing key `kid` removed from the key ring.
    // The key ring on Redis (`app/key_rotation.rs`) only.
    #[cfg_attr(not(all(feature = "redis", feature = "aws-lc-rs")), allow(dead_code))]
    pub(crate) fn key_retired(&self, kid: &str) {
        self.write(Fields::of_key("key_retired", kid));
    }

    /// `fields` with the request's method, route template and client address, to the global
    /// logger when it takes them.
    fn of_request(&self, request: &Request<'_>, fields: Fields<'_>) {
        if enabled() {
            self.of_request_to(log::logger(), request, fields);
        }
    }

    /// `fields` with the request's method, route template and client address, to `logger`.
    fn of_request_to(&self, logger: &dyn Log, request: &Request<'_>, fields: Fields<'_>) {
        let route = request.route().map(|route| route.uri.to_string());
        let client_ip = request.client_ip().map(|ip| ip.to_string());
        self.write_to(
            logger,
            Fields {
                method: Some(request.method().as_str()),
                route: route.as_deref(),
                client_ip: client_ip.as_deref(),
                ..fields
            },
        );
    }

    /// Writes `fields` to the global logger, when it takes them.
    fn write(&self, fields: Fields<'_>) {
        if enabled() {
            self.write_to(log::logger(), fields);
        }
    }

    /// Writes `fields`, with the profile, as one record to `logger`: the record `log::info!`
    /// builds, with `fields` as its key-value source (the macro names each key, and would write
    /// the unset ones as nulls).
    fn write_to(&self, logger: &dyn Log, fields: Fields<'_>) {
        let fields = Fields {
            profile: Some(self.profile),
            ..fields
        };
        let message = match self.json {
            true => serde_json::to_string(&fields).unwrap_or_default(),
            false => fields.text(),
        };
        logger.log(
            &Record::builder()
                .level(Level::Info)
                .target(TARGET)
                .module_path_static(Some(module_path!()))
                .file_static(Some(file!()))
                .line(Some(line!()))
                .args(format_args!("{message}"))
                .key_values(&fields)
                .build(),
        );
    }
}

/// A refusal's fields: the metrics' reason of `error`, and the DPoP check that failed.
fn refusal(error: &JwtError) -> Fields<'static> {
    let check = error.proof_check().map(ProofCheck::label);
    let reason = Some(Reason::of(error).as_str());
    Fields {
        reason,
        check,
        ..Fields::event("refusal")
    }
}

/// Whether the global logger takes info records of [`TARGET`].
fn enabled() -> bool {
    Level::Info <= log::max_level()
        && log::logger().enabled(
            &Metadata::builder()
                .level(Level::Info)
                .target(TARGET)
                .build(),
        )
}

/// One record's fields; those that are `None` are left out of the message and the key-values.
#[derive(Debug, Clone, Copy, Default)]
struct Fields<'a> {
    event: &'a str,
    reason: Option<&'a str>,
    check: Option<&'a str>,
    method: Option<&'a str>,
    route: Option<&'a str>,
    profile: Option<&'a str>,
    subject: Option<&'a str>,
    client_ip: Option<&'a str>,
    kid: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// The fields of an `event` about `subject`.
    fn of_subject(event: &'a str, subject: Option<&'a str>) -> Self {
        let event = Fields::event(event);
        Fields { subject, ..event }
    }

    /// The fields of an `event` about our signing key `kid`.
    // The key ring on Redis (`app/key_rotation.rs`) only.
    #[cfg_attr(not(all(feature = "redis", feature = "aws-lc-rs")), allow(dead_code))]
    fn of_key(event: &'a str, kid: &'a str) -> Self {
        let event = Fields::event(event);
        Fields {
            kid: Some(kid),
            ..event
        }
    }

    /// The fields of `event`, the others unset.
    fn event(event: &'a str) -> Self {
        Fields {
            event,
            ..Fields::default()
        }
    }

    /// The fields that are set, in order.
    fn pairs(&self) -> impl Iterator<Item = (&'static str, &'a str)> {
        [
            ("event", Some(self.event)),
            ("reason", self.reason),
            ("check", self.check),
            ("method", self.method),
            ("route", self.route),
            ("profile", self.profile),
            ("subject", self.subject),
            ("client_ip", self.client_ip),
            ("kid", self.kid),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
    }

    /// The fields as `key=value` pairs; a value with a space, a quote, a backslash, an `=` or a
    /// control character, or an empty one, in double quotes with those escaped (one line always).
    fn text(&self) -> String {
        let mut line = String::new();
        for (key, value) in self.pairs() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(key);
            line.push('=');
            push_text_value(&mut line, value);
        }
        line
    }
}

/// `value` as the text form writes it: control characters and whitespace other than the space
/// as `\u{..}` escapes, so that a record is one line whatever the value.
fn push_text_value(line: &mut String, value: &str) {
    let bare = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '='));
    if bare {
        line.push_str(value);
        return;
    }
    line.push('"');
    for c in value.chars() {
        match c {
            '"' => line.push_str("\\\""),
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                let _ = write!(line, "\\u{{{:x}}}", c as u32);
            }
            c => line.push(c),
        }
    }
    line.push('"');
}

/// The JSON form: one object of the fields that are set, in order.
impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.pairs())
    }
}

/// The record's key-values: the fields that are set.
impl Source for Fields<'_> {
    fn visit<'kvs>(&'kvs self, visitor: &mut dyn VisitSource<'kvs>) -> Result<(), kv::Error> {
        for (key, value) in self.pairs() {
            visitor.visit_pair(Key::from_str(key), Value::from(value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use rocket::http::Status;
    use serde_json::json;

    use super::*;
    use crate::error::{Check, ErrorKind, ProofCheck};

    /// One record a test wrote.
    struct Captured {
        target: String,
        level: Level,
        message: String,
        key_values: Vec<(String, String)>,
    }

    /// The records a test wrote.
    #[derive(Default)]
    struct Capture(Mutex<Vec<Captured>>);

    impl Log for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }

        fn log(&self, record: &Record<'_>) {
            struct Pairs(Vec<(String, String)>);
            impl<'kvs> VisitSource<'kvs> for Pairs {
                fn visit_pair(
                    &mut self,
                    key: Key<'kvs>,
                    value: Value<'kvs>,
                ) -> Result<(), kv::Error> {
                    self.0.push((key.to_string(), value.to_string()));
                    Ok(())
                }
            }
            let mut pairs = Pairs(Vec::new());
            record.key_values().visit(&mut pairs).expect("visited");
            self.0.lock().unwrap().push(Captured {
                target: record.target().to_owned(),
                level: record.level(),
                message: record.args().to_string(),
                key_values: pairs.0,
            });
        }

        fn flush(&self) {}
    }

    fn audit(format: AuditLog) -> Audit {
        let settings = Settings {
            audit_log: format,
            ..Settings::default()
        };
        Audit::new(&settings).expect("on")
    }

    fn refusal_fields() -> Fields<'static> {
        Fields {
            reason: Some("signature"),
            method: Some("GET"),
            route: Some("/protected/<id>"),
            client_ip: Some("127.0.0.1"),
            ..Fields::event("refusal")
        }
    }

    fn login_fields() -> Fields<'static> {
        Fields {
            method: Some("POST"),
            route: Some("/auth"),
            subject: Some("user1"),
            client_ip: Some("::1"),
            ..Fields::event("login")
        }
    }

    /// The one record `fields` makes in `format`: its message and key-values.
    fn written(format: AuditLog, fields: Fields<'_>) -> (String, Vec<(String, String)>) {
        let capture = Capture::default();
        audit(format).write_to(&capture, fields);
        let mut records = capture.0.into_inner().unwrap();
        assert_eq!(records.len(), 1, "one record per event");
        let record = records.remove(0);
        assert_eq!(
            (record.target.as_str(), record.level),
            (TARGET, Level::Info)
        );
        (record.message, record.key_values)
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn off_makes_no_audit() {
        assert_eq!(Audit::new(&Settings::default()), None);
        assert!(Audit::new(&Settings {
            audit_log: AuditLog::Json,
            ..Settings::default()
        })
        .is_some());
    }

    #[test]
    fn text_records_are_key_value_pairs_with_the_same_key_values() {
        let (message, kvs) = written(AuditLog::Text, refusal_fields());
        assert_eq!(
            message,
            "event=refusal reason=signature method=GET route=/protected/<id> profile=flask_jwt \
             client_ip=127.0.0.1"
        );
        let expected = [
            ("event", "refusal"),
            ("reason", "signature"),
            ("method", "GET"),
            ("route", "/protected/<id>"),
            ("profile", "flask_jwt"),
            ("client_ip", "127.0.0.1"),
        ];
        assert_eq!(kvs, pairs(&expected));
        let (message, kvs) = written(AuditLog::Text, login_fields());
        assert_eq!(
            message,
            "event=login method=POST route=/auth profile=flask_jwt subject=user1 client_ip=::1"
        );
        assert_eq!(
            kvs.iter()
                .find(|(k, _)| k == "subject")
                .map(|(_, v)| v.as_str()),
            Some("user1")
        );
    }

    #[test]
    fn text_values_are_quoted_and_escaped_on_one_line() {
        let fields = Fields {
            check: Some("proof URL (htu)"),
            subject: Some("a \"b\"\\c=d\ne\u{7}\u{2028}"),
            kid: Some(""),
            ..Fields::event("refusal")
        };
        let (message, kvs) = written(AuditLog::Text, fields);
        assert_eq!(
            message,
            r#"event=refusal check="proof URL (htu)" profile=flask_jwt subject="a \"b\"\\c=d\ne\u{7}\u{2028}" kid="""#
        );
        assert!(!message.contains('\n'));
        // The key-values hold the values themselves.
        assert!(kvs.contains(&("subject".into(), "a \"b\"\\c=d\ne\u{7}\u{2028}".into())));
    }

    #[test]
    fn json_records_are_one_object_with_the_same_key_values() {
        let (message, kvs) = written(AuditLog::Json, refusal_fields());
        assert_eq!(
            message,
            r#"{"event":"refusal","reason":"signature","method":"GET","route":"/protected/<id>","profile":"flask_jwt","client_ip":"127.0.0.1"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&message).expect("JSON");
        let object = parsed.as_object().expect("an object");
        assert_eq!(object.len(), kvs.len());
        for (key, value) in &kvs {
            assert_eq!(object[key], json!(value), "{key}");
        }
        let (message, _) = written(AuditLog::Json, login_fields());
        let parsed: serde_json::Value = serde_json::from_str(&message).expect("JSON");
        assert_eq!(
            parsed,
            json!({"event": "login", "method": "POST", "route": "/auth", "profile": "flask_jwt",
                   "subject": "user1", "client_ip": "::1"})
        );
        let fields = Fields {
            subject: Some("a\"\n\u{2028}"),
            ..Fields::event("logout")
        };
        let (message, _) = written(AuditLog::Json, fields);
        assert!(!message.contains('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&message).expect("JSON");
        assert_eq!(parsed["subject"], "a\"\n\u{2028}");
    }

    #[test]
    fn refusals_name_the_metrics_reason_the_dpop_check_and_the_request() {
        let error = |kind| JwtError::new(Status::Unauthorized, kind, "Invalid token", "refused");
        let client = rocket::local::blocking::Client::untracked(rocket::build()).expect("a client");
        let request = client
            .post("/login")
            .remote("192.0.2.7:5000".parse().expect("an address"));
        let capture = Capture::default();
        let signature = error(ErrorKind::InvalidToken(Check::Signature));
        audit(AuditLog::Text).of_request_to(&capture, &request, refusal(&signature));
        let proof = error(ErrorKind::InvalidProof(ProofCheck::Replay));
        audit(AuditLog::Json).of_request_to(&capture, &request, refusal(&proof));
        let records = capture.0.into_inner().unwrap();
        assert_eq!(records.len(), 2);
        // An unrouted request has no route template.
        assert_eq!(
            records[0].message,
            "event=refusal reason=signature method=POST profile=flask_jwt client_ip=192.0.2.7"
        );
        let parsed: serde_json::Value = serde_json::from_str(&records[1].message).expect("JSON");
        assert_eq!(
            parsed,
            json!({"event": "refusal", "reason": "dpop", "check": ProofCheck::Replay.label(),
                   "method": "POST", "profile": "flask_jwt", "client_ip": "192.0.2.7"})
        );
    }
}

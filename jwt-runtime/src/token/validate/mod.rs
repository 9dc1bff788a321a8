//! The validation pipeline: the five checks of a token, in the order of Auth0's troubleshooting
//! guide, in one routine ([`run`]) that the request guard, [`TokenCodec`](crate::validation::TokenCodec)'s
//! `decode`/`verify` and the inspector all call.
//!
//! 1. [`well_formed`] — three base64url segments, a JSON header with typed registered parameters,
//!    JSON object claims (read once the signature vouches for them);
//! 2. [`signature`] — an accepted `alg`, and the key bound to it verifies the signature;
//! 3. [`validity`] — `exp`, `nbf`, `iat` (and the maximum age) with the leeway;
//! 4. [`authority`] — the key is the authority's (configured, or in its JWKS by `kid`), and `iss`;
//! 5. [`audience`] — `aud`.
//!
//! How a run reports is the caller's choice, through a [`Recorder`]: [`Stop`] ends the run at the
//! first failure (the request path), the inspector's recorder notes every check and goes on where
//! it can. Both see the same checks in the same order, so they cannot disagree. The
//! verified-token cache sits around the pipeline (in [`TokenCodec`](crate::validation::TokenCodec)), never
//! inside a step.

pub(crate) mod audience;
pub(crate) mod authority;
mod key_source;
pub(crate) mod signature;
pub(crate) mod validity;
pub(crate) mod well_formed;

use std::sync::Arc;

use jsonwebtoken::Algorithm;

use crate::claims::Payload;
use crate::error::{Check, JwtError};
use crate::settings::Settings;
use crate::token::claims::TokenClaims;
pub(crate) use key_source::KeySource;

/// What the five checks demand, resolved once from the settings.
#[derive(Debug)]
pub(crate) struct Policy {
    /// The algorithms a token may use; each has its own key.
    pub(crate) accepted: Vec<Algorithm>,
    /// `verify`: when false, only well-formedness is checked.
    pub(crate) verify: bool,
    /// Whether signatures are checked (`verify`, and `signature` in `verify_claims`).
    pub(crate) signature: bool,
    pub(crate) time: validity::TimeRules,
    /// The expected `iss` (`issuer`, or `authority`).
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Vec<String>,
    pub(crate) expected_typ: Option<String>,
    pub(crate) max_token_bytes: usize,
    /// The registered claims that must be strings when present (tokens from an issuer; check 1).
    pub(crate) string_claims: &'static [&'static str],
    /// The last header segment decoded (check 1).
    pub(crate) header_memo: well_formed::HeaderMemo,
    /// Whether the claims are read whole into a payload at once (when the application reads
    /// the payload of every token), rather than member by member as the checks ask.
    pub(crate) whole_claims: bool,
    /// Whether a token may be bound to a DPoP key (`cnf.jkt`), which is then read: tokens from
    /// an issuer, or this application's own with the `dpop` setting on (the only way it binds
    /// the tokens it issues). Other applications never see a bound token and pay nothing.
    pub(crate) dpop_binding: bool,
}

impl Policy {
    pub(crate) fn new(settings: &Settings, accepted: Vec<Algorithm>) -> Self {
        Policy {
            accepted,
            verify: settings.verify,
            signature: settings.verify && settings.verify_claims.iter().any(|c| c == "signature"),
            time: validity::TimeRules::new(settings),
            issuer: settings
                .issuer
                .clone()
                .or_else(|| settings.authority.clone()),
            audience: settings.audience.clone(),
            expected_typ: crate::token::access_token::expected_typ(settings),
            max_token_bytes: settings.max_token_bytes,
            string_claims: well_formed::string_claims(settings),
            header_memo: well_formed::HeaderMemo::default(),
            whole_claims: false,
            dpop_binding: settings.dpop.is_on() || settings.external_issuer(),
        }
    }
}

/// Receives each check's conclusion as the pipeline reaches it.
pub(crate) trait Recorder {
    /// `check` passed; `what` says what was verified (built only by recorders that keep it).
    fn pass(&mut self, check: Check, what: impl FnOnce() -> String);
    /// `check` failed. Returning the error ends the run with it; returning `Ok` goes on.
    fn fail(&mut self, check: Check, error: JwtError) -> Result<(), JwtError>;
    /// `check` did not run, for the reason given.
    fn skip(&mut self, check: Check, why: &'static str);
    /// The decoded header, once it is known to be a JSON object.
    fn header(&mut self, _header: &Payload) {}
    /// The decoded claims, once they are known to be a JSON object.
    fn claims(&mut self, _claims: &TokenClaims) {}
}

/// The request path's recorder: the first failure ends the run.
pub(crate) struct Stop;

impl Recorder for Stop {
    #[inline]
    fn pass(&mut self, _check: Check, _what: impl FnOnce() -> String) {}

    #[inline]
    fn fail(&mut self, _check: Check, error: JwtError) -> Result<(), JwtError> {
        Err(error)
    }

    #[inline]
    fn skip(&mut self, _check: Check, _why: &'static str) {}
}

/// A token that went through the pipeline, and the key that verified it.
#[derive(Debug)]
pub(crate) struct Validated {
    /// The header, as check 1 read it.
    pub(crate) header: Arc<Payload>,
    pub(crate) claims: TokenClaims,
    /// The `kid` and algorithm of the key, when a signature was verified.
    pub(crate) key: Option<(Option<String>, Algorithm)>,
    /// The time claims read by check 3 (none when `verify` is off).
    pub(crate) window: Option<validity::Window>,
    /// The token is bound to a DPoP key (`cnf.jkt`).
    pub(crate) dpop_bound: bool,
}

/// Runs the five checks on `token` at time `now`, reporting each to `recorder`.
///
/// With [`Stop`] it returns the claims or the first failure. With a recorder that goes on, it
/// returns `Ok(None)` where the claims could not be had. Its one await is the key lookup, which
/// fetches only for a JWKS; [`run_now`] is the same steps with the keys held now.
pub(crate) async fn run<R: Recorder>(
    rules: &Policy,
    keys: &KeySource,
    token: &str,
    now: i64,
    recorder: &mut R,
) -> Result<Option<Validated>, JwtError> {
    let Some(started) = start(rules, token, recorder)? else {
        return Ok(None);
    };
    let key = match started.algorithm {
        Some(algorithm) => Some(keys.resolve(started.segments.header.kid(), algorithm).await),
        None => None,
    };
    finish(rules, started, key, now, recorder)
}

/// [`run`] with the keys held now, and no future: the request path's pipeline when the keys are
/// never fetched (the settings' keys, the key ring), and `decode`, which does no I/O.
pub(crate) fn run_now<R: Recorder>(
    rules: &Policy,
    keys: &KeySource,
    token: &str,
    now: i64,
    recorder: &mut R,
) -> Result<Option<Validated>, JwtError> {
    let Some(started) = start(rules, token, recorder)? else {
        return Ok(None);
    };
    let key = started
        .algorithm
        .map(|algorithm| keys.held(started.segments.header.kid(), algorithm));
    finish(rules, started, key, now, recorder)
}

/// What the pipeline knows before the key lookup: check 1's segments and decoded bytes, and the
/// algorithm whose key check 2 needs.
struct Started<'t> {
    segments: well_formed::Segments<'t>,
    claim_bytes: well_formed::ClaimBytes,
    signature: well_formed::SignatureBytes,
    /// The token's accepted `alg`, when signatures are checked (a refused one is recorded).
    algorithm: Option<Algorithm>,
}

const LATER: [Check; 4] = [
    Check::Signature,
    Check::ValidityPeriod,
    Check::Authority,
    Check::Audience,
];

/// Check 1 up to the claims (which wait for the signature), and check 2's algorithm. `None`
/// when the token is not well-formed and the recorder goes on: nothing else can run.
#[inline(never)]
fn start<'t, R: Recorder>(
    rules: &Policy,
    token: &'t str,
    recorder: &mut R,
) -> Result<Option<Started<'t>>, JwtError> {
    // 1. Well-formed: without a header nothing else can run; without claims, only the signature.
    let decoded = well_formed::segments(rules, token).and_then(|segments| {
        recorder.header(&segments.header.fields);
        let (claim_bytes, signature) = well_formed::decode(&segments)?;
        Ok((segments, claim_bytes, signature))
    });
    let (segments, claim_bytes, signature) = match decoded {
        Ok(decoded) => decoded,
        Err(error) => {
            recorder.fail(Check::WellFormed, error)?;
            for check in LATER {
                recorder.skip(check, "the token is not well-formed");
            }
            return Ok(None);
        }
    };
    // 2. Signature: the algorithm, whose key is looked up next.
    let algorithm = match rules.signature {
        false => {
            recorder.skip(Check::Signature, "signature checks are turned off");
            None
        }
        true => match signature::algorithm(&rules.accepted, &segments.header) {
            Ok(algorithm) => Some(algorithm),
            Err(error) => {
                recorder.fail(Check::Signature, error)?;
                None
            }
        },
    };
    Ok(Some(Started {
        segments,
        claim_bytes,
        signature,
        algorithm,
    }))
}

/// The rest of the five checks, given the key lookup's answer (`None` when no key was looked up).
#[inline(never)]
fn finish<R: Recorder>(
    rules: &Policy,
    started: Started<'_>,
    key: Option<Result<crate::keys::KeyRef<'_>, JwtError>>,
    now: i64,
    recorder: &mut R,
) -> Result<Option<Validated>, JwtError> {
    let Started {
        segments,
        claim_bytes,
        signature,
        algorithm,
    } = started;
    // 2, continued: the signature, with the key of the authority (whose absence check 4 reports).
    let mut key_found = None;
    let mut verified = false;
    match (key, algorithm) {
        (Some(Err(error)), _) => {
            let check = error.check().unwrap_or(Check::Authority);
            recorder.fail(check, error)?;
            if check != Check::Signature {
                recorder.fail(
                    Check::Signature,
                    JwtError::invalid_token(
                        Check::Signature,
                        "no key to verify the signature with",
                    ),
                )?;
            }
        }
        (Some(Ok(key)), Some(algorithm)) => {
            match signature::verify(&key, segments.message, &signature) {
                Ok(()) => {
                    verified = true;
                    recorder.pass(Check::Signature, || {
                        format!(
                            "{} signature verified",
                            crate::keys::algorithm_name(algorithm)
                        )
                    });
                }
                Err(error) => recorder.fail(Check::Signature, error)?,
            }
            key_found = Some((key.kid().map(str::to_owned), algorithm));
        }
        _ => {}
    }

    // 1, continued: the claims, read once the signature vouches for them.
    let claims = well_formed::claims(claim_bytes, rules.whole_claims).and_then(|claims| {
        well_formed::registered_claim_types(rules.string_claims, &claims)?;
        Ok(claims)
    });
    let claims = match claims {
        Ok(claims) => {
            recorder.pass(Check::WellFormed, || {
                "three base64url segments, JSON header and claims".into()
            });
            recorder.claims(&claims);
            Some(claims)
        }
        Err(error) => {
            recorder.fail(Check::WellFormed, error)?;
            None
        }
    };

    let Some(claims) = claims else {
        for check in &LATER[1..] {
            recorder.skip(*check, "the claims are not a JSON object");
        }
        return Ok(None);
    };
    if !rules.verify {
        for check in &LATER[1..] {
            recorder.skip(*check, "verification is turned off (verify = false)");
        }
        return Ok(Some(Validated {
            header: Arc::clone(&segments.header.fields),
            dpop_bound: rules.dpop_binding && well_formed::dpop_bound(&claims),
            claims,
            key: None,
            window: None,
        }));
    }

    // 3. Validity period.
    let window = match validity::check(&rules.time, &claims, now) {
        Ok(window) => {
            recorder.pass(Check::ValidityPeriod, || {
                format!(
                    "exp, nbf and iat within the validity period (leeway {} s)",
                    rules.time.leeway()
                )
            });
            Some(window)
        }
        Err(error) => {
            recorder.fail(Check::ValidityPeriod, error)?;
            None
        }
    };

    // 4. Intended authority: the key (found above) and `iss`.
    if rules.signature && !verified {
        recorder.fail(
            Check::Authority,
            JwtError::invalid_token(
                Check::Authority,
                "The signature does not verify, so the token is not proven to come from the authority",
            ),
        )?;
    }
    match authority::issuer(rules.issuer.as_deref(), &claims) {
        Ok(()) => recorder.pass(Check::Authority, || {
            let key = match &key_found {
                Some((Some(kid), _)) => {
                    format!("signed with key {kid:?} of the configured authority")
                }
                Some((None, _)) => "signed with the configured key".to_string(),
                None => "no signature checked".to_string(),
            };
            match (&rules.issuer, claims.get("iss")) {
                (Some(_), Some(iss)) => format!("{key}; iss {iss} is the configured issuer"),
                _ => format!("{key}; no issuer configured"),
            }
        }),
        Err(error) => recorder.fail(Check::Authority, error)?,
    }

    // 5. Intended audience.
    match audience::check(&rules.audience, &claims) {
        Ok(()) => recorder.pass(Check::Audience, || match claims.get("aud") {
            Some(aud) => format!("aud {aud} includes a configured audience"),
            None => "no aud in the token and none configured".into(),
        }),
        Err(error) => recorder.fail(Check::Audience, error)?,
    }

    Ok(Some(Validated {
        header: segments.header.fields,
        dpop_bound: rules.dpop_binding && well_formed::dpop_bound(&claims),
        claims,
        key: key_found,
        window,
    }))
}

/// PyJWT's `MissingRequiredClaimError`.
pub(crate) fn missing_claim(check: Check, claim: &str) -> JwtError {
    JwtError::invalid_token(check, format!("Token is missing the \"{claim}\" claim"))
}

/// At most 64 characters of an attacker-controlled string, for messages and logs.
pub(crate) fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use jsonwebtoken::EncodingKey;
    use serde_json::{json, Value};

    use super::*;
    use crate::claims::now;
    use crate::error::ErrorKind;
    use crate::keys::{self, SigningKey};
    use crate::settings::{KeyMaterial, Secret};
    use crate::test_keys::*;

    /// The rules and keys resolved from the settings, and [`run`] reached as the request path
    /// reaches it: with [`Stop`], keys already held, no verified-token cache around it.
    struct Pipeline {
        settings: Settings,
        rules: Policy,
        keys: KeySource,
        signing_key: Option<SigningKey>,
    }

    impl Pipeline {
        fn new(settings: Settings) -> Self {
            settings.validate().unwrap();
            let accepted = if settings.algorithms.is_empty() {
                vec![settings.algorithm]
            } else {
                settings.algorithms.clone()
            };
            let keys = KeySource::Static(
                accepted
                    .iter()
                    .map(|&algorithm| keys::static_verify_key(&settings, algorithm))
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap(),
            );
            Pipeline {
                signing_key: keys::signing_key(&settings).unwrap(),
                rules: Policy::new(&settings, accepted),
                keys,
                settings,
            }
        }

        /// The five checks on `token` now: its claims, or the first failure.
        fn run(&self, token: &str) -> Result<Payload, JwtError> {
            let validated = super::run_now(&self.rules, &self.keys, token, now(), &mut Stop)?;
            Ok(validated
                .expect("Stop ends with the claims or a failure")
                .claims
                .to_payload())
        }

        /// A token of `claims`, signed with the configured key.
        fn encode(&self, claims: &Payload, extra_headers: &Payload) -> Result<String, JwtError> {
            crate::token::encode::sign(self.signing_key.as_ref().unwrap(), claims, extra_headers)
        }

        fn default_payload(&self, identity: Value) -> Payload {
            crate::token::encode::default_payload(&self.settings, identity)
        }
    }

    fn pipeline() -> Pipeline {
        Pipeline::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            ..Settings::default()
        })
    }

    fn claims(value: Value) -> Payload {
        value.as_object().unwrap().clone()
    }

    fn rejection(pipeline: &Pipeline, token: &str) -> (Check, String) {
        let err = pipeline.run(token).unwrap_err();
        assert_eq!(err.error, "Invalid token");
        match err.kind {
            ErrorKind::InvalidToken(check) => (check, err.description.into_owned()),
            other => panic!("unexpected kind {other:?}"),
        }
    }

    #[test]
    fn structure_errors_use_pyjwt_wording() {
        let pipeline = pipeline();
        assert_eq!(
            rejection(&pipeline, "abc"),
            (Check::WellFormed, "Not enough segments".into())
        );
        assert_eq!(
            rejection(&pipeline, "a.b"),
            (Check::WellFormed, "Not enough segments".into())
        );
        assert_eq!(rejection(&pipeline, "a.b.c.d").1, "Too many segments");
        assert_eq!(rejection(&pipeline, "!!.e30.").1, "Invalid header padding");
        let not_json = URL_SAFE_NO_PAD.encode("{");
        assert!(rejection(&pipeline, &format!("{not_json}.e30."))
            .1
            .starts_with("Invalid header string: "));
        let array = URL_SAFE_NO_PAD.encode("[]");
        assert_eq!(
            rejection(&pipeline, &format!("{array}.e30.")).1,
            "Invalid header string: must be a json object"
        );
    }

    #[test]
    fn alg_comes_from_configuration_only() {
        let pipeline = pipeline();
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#);
        let body = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&pipeline.default_payload(json!(1))).unwrap());
        assert_eq!(
            rejection(&pipeline, &format!("{none_header}.{body}.")),
            (
                Check::Signature,
                "The specified alg value is not allowed".into()
            )
        );
    }

    #[test]
    fn tampering_is_caught() {
        let pipeline = pipeline();
        let token = pipeline
            .encode(&pipeline.default_payload(json!(1)), &Payload::new())
            .unwrap();
        assert_eq!(
            rejection(&pipeline, &format!("{token}X")),
            (Check::Signature, "Signature verification failed".into())
        );
        let other = Pipeline::new(Settings {
            secret_key: Some(Secret::new("another-secret")),
            allow_short_secret: true,
            ..Settings::default()
        });
        assert_eq!(rejection(&other, &token).1, "Signature verification failed");
    }

    #[test]
    fn verify_false_skips_every_check() {
        let pipeline = Pipeline::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            verify: false,
            ..Settings::default()
        });
        let now = now();
        let token = pipeline
            .encode(
                &claims(json!({"identity": 1, "exp": now - 1000})),
                &Payload::new(),
            )
            .unwrap();
        assert!(pipeline.run(&format!("{token}X")).is_ok());
    }

    fn asymmetric(algorithm: Algorithm, private: &str, public: KeyMaterial) -> Pipeline {
        Pipeline::new(Settings {
            algorithm,
            private_key: Some(KeyMaterial::Pem(private.into())),
            public_key: Some(public),
            ..Settings::default()
        })
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused() {
        let pipeline = asymmetric(
            Algorithm::RS256,
            RSA_PRIVATE,
            KeyMaterial::Pem(RSA2_PUBLIC.into()),
        );
        let token = pipeline
            .encode(&pipeline.default_payload(json!(1)), &Payload::new())
            .unwrap();
        assert_eq!(
            rejection(&pipeline, &token),
            (Check::Signature, "Signature verification failed".into())
        );
    }

    #[test]
    fn an_ec_token_is_refused_by_an_rsa_configuration() {
        let ec = asymmetric(
            Algorithm::ES256,
            EC_PRIVATE,
            KeyMaterial::Pem(EC_PUBLIC.into()),
        );
        let token = ec
            .encode(&ec.default_payload(json!(1)), &Payload::new())
            .unwrap();
        let rsa = asymmetric(
            Algorithm::RS256,
            RSA_PRIVATE,
            KeyMaterial::Pem(RSA_PUBLIC.into()),
        );
        assert_eq!(
            rejection(&rsa, &token).1,
            "The specified alg value is not allowed"
        );
    }

    fn oidc(issuer: &str, audience: &[&str]) -> Pipeline {
        Pipeline::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            issuer: Some(issuer.into()),
            audience: audience.iter().map(|a| a.to_string()).collect(),
            ..Settings::default()
        })
    }

    fn with(pipeline: &Pipeline, extra: Value) -> String {
        let mut payload = pipeline.default_payload(json!(1));
        payload.extend(claims(extra));
        pipeline.encode(&payload, &Payload::new()).unwrap()
    }

    #[test]
    fn audience_string_or_array_one_must_match() {
        let pipeline = oidc("iss", &["api"]);
        for aud in [json!("api"), json!(["other", "api"])] {
            assert!(
                pipeline
                    .run(&with(&pipeline, json!({"iss": "iss", "aud": aud})))
                    .is_ok(),
                "{aud}"
            );
        }
        for aud in [
            json!(["other"]),
            json!([]),
            json!(""),
            json!("API"),
            json!(1),
            json!([1]),
        ] {
            assert_eq!(
                rejection(
                    &pipeline,
                    &with(&pipeline, json!({"iss": "iss", "aud": aud}))
                )
                .0,
                Check::Audience,
                "{aud}"
            );
        }
        assert_eq!(
            rejection(&pipeline, &with(&pipeline, json!({"iss": "iss"}))),
            (Check::Audience, "Token is missing the \"aud\" claim".into())
        );
    }

    #[test]
    fn audience_in_the_token_but_none_configured_is_refused() {
        let pipeline = pipeline();
        assert_eq!(
            rejection(&pipeline, &with(&pipeline, json!({"aud": "api"}))),
            (
                Check::Audience,
                "Invalid audience: the token is not for this application".into()
            )
        );
        // An `aud` of null is no audience.
        assert!(pipeline.run(&with(&pipeline, json!({"aud": null}))).is_ok());
    }

    fn raw_token(pipeline: &Pipeline, header: &str, claims: &str) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let key = EncodingKey::from_secret(
            pipeline
                .settings
                .secret_key
                .as_ref()
                .unwrap()
                .expose()
                .as_bytes(),
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{message}.{signature}")
    }

    fn fresh_claims() -> String {
        let now = now();
        format!(
            r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":{}}}"#,
            now + 60
        )
    }

    #[test]
    fn unsupported_header_parameters_are_refused() {
        let pipeline = pipeline();
        for header in [
            r#"{"typ":"JWT","alg":"HS256","crit":["x-custom"]}"#,
            r#"{"typ":"JWT","alg":"HS256","crit":[]}"#,
            r#"{"typ":"JWT","alg":"HS256","b64":false,"crit":["b64"]}"#,
            r#"{"typ":"JWT","alg":"HS256","zip":"DEF"}"#,
            r#"{"typ":"JWT","alg":"HS256","cty":"JWT"}"#,
            r#"{"typ":"JWT","alg":"HS256","cty":"application/jwt"}"#,
        ] {
            let token = raw_token(&pipeline, header, &fresh_claims());
            assert_eq!(
                rejection(&pipeline, &token).0,
                Check::WellFormed,
                "{header}"
            );
        }
        let token = raw_token(
            &pipeline,
            r#"{"typ":"JWT","alg":"HS256","foo":"bar"}"#,
            &fresh_claims(),
        );
        assert!(
            pipeline.run(&token).is_ok(),
            "unknown non-critical fields are ignored"
        );
    }

    #[test]
    fn duplicate_members_are_refused() {
        let pipeline = pipeline();
        let header = r#"{"alg":"none","alg":"HS256","typ":"JWT"}"#;
        let (check, description) =
            rejection(&pipeline, &raw_token(&pipeline, header, &fresh_claims()));
        assert_eq!(check, Check::WellFormed);
        assert_eq!(
            description,
            "Invalid header string: duplicate member \"alg\""
        );
        let now = now();
        let claims = format!(
            r#"{{"identity":1,"iat":{now},"nbf":{now},"exp":1,"exp":{}}}"#,
            now + 60
        );
        let (_, description) = rejection(
            &pipeline,
            &raw_token(&pipeline, r#"{"alg":"HS256"}"#, &claims),
        );
        assert_eq!(
            description,
            "Invalid payload string: duplicate member \"exp\""
        );
    }

    #[test]
    fn oversized_tokens_are_refused_before_decoding() {
        let pipeline = pipeline();
        let huge = ".".repeat(10_000_000);
        assert_eq!(
            rejection(&pipeline, &huge),
            (Check::WellFormed, "Token is too large".into())
        );
    }

    #[test]
    fn expected_typ_matches_equivalent_media_types() {
        let pipeline = Pipeline::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            expected_typ: Some("at+jwt".into()),
            ..Settings::default()
        });
        for typ in ["at+jwt", "application/at+jwt", "AT+JWT"] {
            let header = format!(r#"{{"typ":"{typ}","alg":"HS256"}}"#);
            assert!(
                pipeline
                    .run(&raw_token(&pipeline, &header, &fresh_claims()))
                    .is_ok(),
                "{typ}"
            );
        }
        for header in [
            r#"{"alg":"HS256"}"#,
            r#"{"typ":"JWT","alg":"HS256"}"#,
            r#"{"typ":"at+jwt\u0000","alg":"HS256"}"#,
            r#"{"typ":"JOSE","alg":"HS256"}"#,
        ] {
            assert_eq!(
                rejection(&pipeline, &raw_token(&pipeline, header, &fresh_claims())).0,
                Check::WellFormed,
                "{header}"
            );
        }
        // without expected_typ, typ is not checked
        assert!(default_pipeline_accepts(r#"{"typ":"JOSE","alg":"HS256"}"#));
    }

    fn default_pipeline_accepts(header: &str) -> bool {
        let pipeline = pipeline();
        pipeline
            .run(&raw_token(&pipeline, header, &fresh_claims()))
            .is_ok()
    }

    #[test]
    fn max_age_needs_a_recent_iat() {
        let pipeline = Pipeline::new(Settings {
            secret_key: Some(Secret::new("super-secret")),
            allow_short_secret: true,
            max_age: Some(std::time::Duration::from_secs(60)),
            required_claims: Some(vec!["exp".into()]),
            ..Settings::default()
        });
        let now = now();
        let sign = |claims: Value| {
            pipeline
                .encode(&claims.as_object().unwrap().clone(), &Payload::new())
                .unwrap()
        };
        assert!(pipeline
            .run(&sign(json!({"iat": now - 30, "exp": now + 60})))
            .is_ok());
        assert_eq!(
            rejection(&pipeline, &sign(json!({"iat": now - 600, "exp": now + 60}))).1,
            "The token is too old (iat)"
        );
        assert_eq!(
            rejection(&pipeline, &sign(json!({"exp": now + 60}))).1,
            "Token is missing the \"iat\" claim"
        );
    }

    #[test]
    fn a_non_string_subject_is_refused() {
        let pipeline = pipeline();
        let now = now();
        for sub in ["1", "null", "[\"a\"]"] {
            let claims = format!(
                r#"{{"sub":{sub},"iat":{now},"nbf":{now},"exp":{}}}"#,
                now + 60
            );
            assert_eq!(
                rejection(
                    &pipeline,
                    &raw_token(&pipeline, r#"{"alg":"HS256"}"#, &claims)
                )
                .0,
                Check::WellFormed
            );
        }
    }
}

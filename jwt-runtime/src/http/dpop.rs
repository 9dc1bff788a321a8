//! The request's side of DPoP (RFC 9449 §7.1): which scheme the token came with, the proof
//! headers, the URL the proof must name, and what a proven request leaves for its response (the
//! key new tokens are bound to, a renewed server nonce).

use rocket::Request;
use smallvec::SmallVec;

use crate::claims::Payload;
use crate::dpop::proof::refused;
use crate::dpop::{target, Accepted, DpopVerifier, ProofRequest};
use crate::error::{JwtError, ProofCheck};
use crate::http::finish;
use crate::http::locations::Found;
use crate::settings::{DpopMode, Settings};
use crate::token::claims::TokenClaims;

/// The proof header's name.
pub(crate) const PROOF_HEADER: &str = "DPoP";

/// The key a token is bound to: its `cnf.jkt` (RFC 9449 §6.1).
pub(crate) fn bound_key(claims: &TokenClaims) -> Option<&str> {
    claims.get("cnf")?.get("jkt")?.as_str()
}

/// The DPoP checks of a request whose token verified, as the route's `mode` says, but the
/// replay check: `Ok(None)` for a bearer token the route accepts, the accepted proof for a
/// DPoP-bound token sent with its proof, the refusal otherwise.
pub(crate) fn check(
    verifier: &DpopVerifier,
    request: &Request<'_>,
    settings: &Settings,
    mode: DpopMode,
    found: &Found<'_>,
    claims: &TokenClaims,
    now: i64,
) -> Result<Option<Accepted>, JwtError> {
    match (found.dpop, bound_key(claims)) {
        (false, Some(_)) => Err(refused(
            ProofCheck::Scheme,
            "the token is DPoP-bound (cnf.jkt) and must be sent with the DPoP scheme and its proof",
        )),
        (false, None) if mode == DpopMode::Required => Err(refused(
            ProofCheck::Scheme,
            "this route takes only DPoP-bound tokens, sent with the DPoP scheme and a proof",
        )),
        (false, None) => Ok(None),
        (true, None) => Err(refused(
            ProofCheck::Binding,
            "the token sent with the DPoP scheme is not bound to a key (no cnf.jkt)",
        )),
        (true, Some(bound)) => {
            let proofs = proof_headers(request);
            verify(
                verifier,
                request,
                settings,
                &proofs,
                Some((&found.token, bound)),
                now,
            )
            .map(Some)
        }
    }
}

/// The proof of a request that carries no token yet (a login): the accepted proof when the
/// request has a `DPoP` header, `Ok(None)` when it has none, the refusal of a bad one. The
/// replay check is the caller's.
pub(crate) fn check_without_token(
    verifier: &DpopVerifier,
    request: &Request<'_>,
    settings: &Settings,
    now: i64,
) -> Result<Option<Accepted>, JwtError> {
    let proofs = proof_headers(request);
    if proofs.is_empty() {
        return Ok(None);
    }
    verify(verifier, request, settings, &proofs, None, now).map(Some)
}

/// The checks of `proofs` sent in `request`, with the token and the key it is bound to (none at
/// a login).
fn verify(
    verifier: &DpopVerifier,
    request: &Request<'_>,
    settings: &Settings,
    proofs: &[&str],
    token: Option<(&str, &str)>,
    now: i64,
) -> Result<Accepted, JwtError> {
    let url = request_url(request, settings);
    verifier.check(&ProofRequest {
        proofs,
        method: request.method().as_str(),
        url: url.as_deref(),
        token: token.map(|(token, _)| token),
        bound_to: token.map(|(_, bound)| bound),
        now,
    })
}

/// Records that the request proved possession of `accepted`'s key, after its replay check: the
/// tokens issued for it are bound to that key, and a renewed nonce goes on the response.
pub(crate) fn keep(request: &Request<'_>, accepted: Accepted) {
    let finishing = finish::of(request);
    let _ = finishing.dpop.set(finish::Proven {
        thumbprint: accepted.proof.thumbprint,
        renewed_nonce: accepted.renewed_nonce,
    });
}

/// The thumbprint of the key `request` proved it holds, if it did (a DPoP request on a route
/// that takes DPoP, or a login with a proof).
pub(crate) fn proven_key<'r>(request: &'r Request<'_>) -> Option<&'r str> {
    let proven = finish::of(request).dpop.get()?;
    Some(proven.thumbprint.as_str())
}

/// Binds a token issued for `request` to the key it proved it holds (`cnf.jkt`, RFC 9449 §6.1),
/// unless the claims bind it already.
pub(crate) fn bind(request: &Request<'_>, claims: &mut Payload) {
    if let Some(thumbprint) = proven_key(request) {
        claims
            .entry("cnf")
            .or_insert_with(|| serde_json::json!({ "jkt": thumbprint }));
    }
}

/// The values of the request's `DPoP` headers.
fn proof_headers<'r>(request: &'r Request<'_>) -> SmallVec<[&'r str; 1]> {
    request.headers().get(PROOF_HEADER).collect()
}

/// The request's URL as a proof's `htu` must name it: the public origin (see [`origin`]) and
/// the request's path, normalised.
fn request_url(request: &Request<'_>, settings: &Settings) -> Option<String> {
    target::request_url(&origin(request, settings)?, request.uri().path().as_str())
}

/// The scheme and authority the client reached: `public_origin`; else, from a proxy of
/// `trusted_proxies`, its `X-Forwarded-Proto` and `X-Forwarded-Host`; else `https` when Rocket
/// serves TLS (`http` otherwise) and the request's `Host`.
fn origin(request: &Request<'_>, settings: &Settings) -> Option<String> {
    if let Some(origin) = &settings.public_origin {
        return Some(origin.clone());
    }
    let from_proxy = request
        .remote()
        .is_some_and(|peer| settings.trusted_proxies.contains(&peer.ip()));
    let first = |name: &str| {
        request
            .headers()
            .get_one(name)
            .and_then(|value| value.split(',').next())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    if from_proxy && let Some(host) = first("X-Forwarded-Host") {
        let scheme = first("X-Forwarded-Proto").unwrap_or("http");
        return Some(format!("{scheme}://{host}"));
    }
    let scheme = match request.rocket().config().tls_enabled() {
        true => "https",
        false => "http",
    };
    Some(format!("{scheme}://{}", request.host()?))
}

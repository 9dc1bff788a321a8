//! The refresh resource: `POST <refresh_url_rule>` trades a valid refresh token for a new,
//! non-fresh access token (`{"access_token": ..}`), as Flask-JWT-Extended's documented
//! `/refresh` route does. With `refresh_token_rotation` on, the answer also carries the
//! successor (`{"access_token": .., "refresh_token": ..}`; a token that came in a cookie gets
//! it in the refresh cookies as well).

use std::sync::Arc;

use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};

use crate::app::manager::identity_of;
use crate::authz::rules::{Refresh, RouteRules};
use crate::error::{JwtError, JwtResponse};
use crate::http::engine::Authenticator;
use crate::http::finish::Rotated;
use crate::http::issue::{Freshness, TokenRequest, TokenType};
use crate::token::verified::VerifiedToken;
use serde_json::{json, Value};

/// The route handler; it holds the resolved extension.
#[derive(Clone)]
pub(crate) struct RefreshResource(Arc<dyn Authenticator>);

impl RefreshResource {
    /// `POST rule`. `rule` was validated with the settings.
    pub(crate) fn route(engine: Arc<dyn Authenticator>, rule: &str) -> Route {
        let mut route = Route::new(Method::Post, rule, RefreshResource(engine));
        route.name = Some("jwt_refresh".into());
        route
    }

    async fn refresh(&self, request: &Request<'_>) -> Result<JwtResponse, JwtError> {
        let current = self
            .0
            .authenticate(request, RouteRules::of_route::<Refresh>())
            .await?;
        crate::http::cookies::write_rotated(request)?;
        let claims = current
            .token
            .as_ref()
            .map(VerifiedToken::payload)
            .ok_or_else(|| JwtError::internal("a refresh without a token"))?;
        let identity = identity_of(&claims, self.0.settings());
        let mut access = TokenRequest::new(identity, TokenType::Access, Freshness::NotFresh);
        let rotated = crate::http::finish::of(request).rotated.get();
        if let Some(jti) = rotated.and_then(Rotated::take_access_jti) {
            access.claims.insert("jti".into(), Value::String(jti));
        }
        crate::http::dpop::bind(request, &mut access.claims);
        let token = self.0.create_token(access)?;
        let mut body = match rotated {
            Some(rotated) => {
                json!({ "access_token": token, "refresh_token": rotated.refresh_token })
            }
            None => json!({ "access_token": token }),
        };
        if crate::http::dpop::proven_key(request).is_some() {
            body["token_type"] = json!("DPoP");
        }
        Ok(JwtResponse::json(Status::Ok, &body))
    }
}

#[rocket::async_trait]
impl Handler for RefreshResource {
    async fn handle<'r>(&self, request: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let response = match self.refresh(request).await {
            Ok(response) => response,
            Err(error) => self.0.respond(error, None, None),
        };
        Outcome::from(request, response)
    }
}

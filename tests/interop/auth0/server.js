// Auth0's Express API quickstart (https://auth0.com/docs/quickstart/backend/nodejs), the reference
// side of tests/it/auth0_side_by_side.rs: express-oauth2-jwt-bearer 1.10.0's `auth()` middleware,
// `requiredScopes('read:messages')`, and the quickstart's three routes.
//
// The test gives the configuration in the environment: ISSUER (the `iss` tokens must carry, byte
// for byte), AUDIENCE (the API identifier) and JWKS_URI (the key set it serves on 127.0.0.1). The
// quickstart writes `auth({ audience, issuerBaseURL })`, which discovers the issuer and the JWKS
// URL from `<issuerBaseURL>/.well-known/openid-configuration`; with the keys on loopback http the
// same two values are given explicitly (`issuer` + `jwksUri`, which 1.10.0 accepts over http), and
// `tokenSigningAlg: 'RS256'` stands for what an Auth0 tenant's discovery restricts the algorithms
// to for an RS256 API. Everything else keeps the middleware's defaults (`clockTolerance` 5 s, DPoP
// accepted beside Bearer, no `maxTokenAge`, not `strict`).
//
// Listens on 127.0.0.1 only, on PORT (0, the default, lets the system pick a free port), and
// prints the port it listens on as the first line of stdout.
'use strict';

const express = require('express');
const { auth, requiredScopes } = require('express-oauth2-jwt-bearer');

const checkJwt = auth({
  audience: process.env.AUDIENCE,
  issuer: process.env.ISSUER,
  jwksUri: process.env.JWKS_URI,
  tokenSigningAlg: 'RS256',
});

const app = express();

// This route doesn't need authentication
app.get('/api/public', (req, res) => {
  res.json({
    message: "Hello from a public endpoint! You don't need to be authenticated to see this.",
  });
});

// This route needs authentication
app.get('/api/private', checkJwt, (req, res) => {
  res.json({
    message: 'Hello from a private endpoint! You need to be authenticated to see this.',
    sub: req.auth.payload.sub,
  });
});

const checkScopes = requiredScopes('read:messages');

app.get('/api/private-scoped', checkJwt, checkScopes, (req, res) => {
  res.json({
    message:
      'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
    sub: req.auth.payload.sub,
  });
});

// The middleware's errors (UnauthorizedError and its subclasses InvalidRequestError,
// InvalidTokenError, InsufficientScopeError) carry `status`, `headers` (`WWW-Authenticate`),
// `code` (`invalid_request`, `invalid_token`, `insufficient_scope`; none for a request without a
// token, '' for a malformed request) and `message`: the answer says all of it, so that the test
// compares the reason and not only the status.
app.use((err, req, res, next) => {
  if (res.headersSent) {
    return next(err);
  }
  const status = err.status || err.statusCode || 500;
  if (err.headers) {
    res.set(err.headers);
  }
  res.status(status).json({
    status,
    error: err.code || null,
    name: err.name,
    message: err.message,
  });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});

// The test closes our stdin when it is done (or dies): stop then.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

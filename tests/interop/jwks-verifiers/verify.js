// Two independent verifiers of JWTs through a JWKS endpoint, for tests/system/jwks_verifiers.rs:
//
// - panva's `jose` (6.2.19): `createRemoteJWKSet(new URL(jwks_url))` and `jwtVerify` with the
//   issuer, the audience and the algorithms ES256, EdDSA, RS256 and PS256;
// - Auth0's `express-oauth2-jwt-bearer` (1.10.0): its `auth()` middleware, configured with
//   `issuer` and `jwksUri` (no `tokenSigningAlg`, so every asymmetric algorithm it knows is
//   allowed), run on a request object that carries the token as `Authorization: Bearer`. It
//   fetches and caches the key set itself (its own copy of `jose` 4, `createRemoteJWKSet` kept
//   per `jwksUri`).
//
// Usage: node verify.js <jwks_url> <issuer> <audience> [<cooldown_seconds>], with NODE_PATH naming
// the installed node_modules. It prints `ready` as its first line of stdout once both verifiers
// are made. Tokens come on stdin, one per line, and each is verified by both as soon as its line
// arrives; one instance of each serves the whole run, so each keeps its key set cache (and its
// cooldown between refetches) across tokens, with its library's defaults, except that
// `cooldown_seconds`, when given, is both libraries' `cooldownDuration` (in milliseconds there):
// the least time between two fetches of the key set for a `kid` it does not know (30 s by
// default). When stdin ends, the key set is fetched once more and every key's RFC 7638
// thumbprint (`calculateJwkThumbprint`, SHA-256) is compared with its `kid`; then one JSON object
// is printed on a line of its own:
//
//   {"jose": {"verified": n, "failed": n, "failures": [...]}, "auth0": {...},
//    "thumbprints": {"keys": n, "kid_equals_thumbprint": n}}
//
// where `failures` holds the first five failures' messages, in the order of the tokens
// (`token <n>: <message>`, n counting from 1).
'use strict';

const readline = require('node:readline');
const { pathToFileURL } = require('node:url');
const { auth } = require('express-oauth2-jwt-bearer');

const ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
const FAILURES_KEPT = 5;

const [jwksUrl, issuer, audience, cooldownArgument] = process.argv.slice(2);
if (!jwksUrl || !issuer || !audience) {
  process.stderr.write(
    'usage: node verify.js <jwks_url> <issuer> <audience> [<cooldown_seconds>]\n',
  );
  process.exit(2);
}
// The key set options both libraries share: none (their defaults), or `cooldownDuration`.
const keySetOptions = {};
if (cooldownArgument !== undefined) {
  const seconds = Number(cooldownArgument);
  if (!Number.isFinite(seconds) || seconds < 0) {
    process.stderr.write(`cooldown_seconds ${JSON.stringify(cooldownArgument)} is not >= 0\n`);
    process.exit(2);
  }
  keySetOptions.cooldownDuration = Math.round(seconds * 1000);
}

// jose 6 is an ES module: found through NODE_PATH as `require` finds it, then imported.
const loadJose = () => import(pathToFileURL(require.resolve('jose')).href);

// One verifier's tally.
class Tally {
  constructor() {
    this.verified = 0;
    this.failed = 0;
    this.failures = [];
  }

  record(index, error) {
    if (!error) {
      this.verified += 1;
      return;
    }
    this.failed += 1;
    this.failures.push({ index, message: `token ${index + 1}: ${describe(error)}` });
  }

  toJSON() {
    const first = [...this.failures].sort((a, b) => a.index - b.index).slice(0, FAILURES_KEPT);
    return {
      verified: this.verified,
      failed: this.failed,
      failures: first.map((failure) => failure.message),
    };
  }
}

function describe(error) {
  const code = error && (error.code || error.name);
  const message = (error && error.message) || String(error);
  return code ? `${code}: ${message}` : message;
}

// express-oauth2-jwt-bearer's middleware on a request of its own: a GET with the token as a
// Bearer credential. Resolves to the verification's error, or null when the token is accepted.
function auth0Verifier() {
  const middleware = auth({ issuer, jwksUri: jwksUrl, audience, ...keySetOptions });
  return (token) =>
    new Promise((resolve) => {
      const headers = { host: 'verifier.invalid', authorization: `Bearer ${token}` };
      const req = {
        headers,
        method: 'GET',
        protocol: 'https',
        url: '/',
        originalUrl: '/',
        query: {},
        body: undefined,
        get: (name) => headers[name.toLowerCase()],
        header: (name) => headers[name.toLowerCase()],
        is: () => false,
      };
      const res = {};
      middleware(req, res, (error) => {
        if (error) {
          resolve(error);
        } else if (!req.auth || !req.auth.payload) {
          resolve(new Error('the middleware went on without req.auth'));
        } else {
          resolve(null);
        }
      });
    });
}

async function thumbprints(jose) {
  const response = await fetch(jwksUrl);
  if (!response.ok) {
    throw new Error(`GET ${jwksUrl}: ${response.status}`);
  }
  const { keys } = await response.json();
  let equal = 0;
  for (const jwk of keys) {
    if (jwk.kid === (await jose.calculateJwkThumbprint(jwk, 'sha256'))) {
      equal += 1;
    }
  }
  return { keys: keys.length, kid_equals_thumbprint: equal };
}

async function main() {
  const jose = await loadJose();
  const jwks = jose.createRemoteJWKSet(new URL(jwksUrl), keySetOptions);
  const auth0 = auth0Verifier();
  const tallies = { jose: new Tally(), auth0: new Tally() };
  const pending = new Set();
  process.stdout.write('ready\n');

  const verifyWithJose = (token) =>
    jose.jwtVerify(token, jwks, { issuer, audience, algorithms: ALGORITHMS }).then(
      () => null,
      (error) => error,
    );

  let index = 0;
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    const token = line.trim();
    if (!token) {
      return;
    }
    const at = index;
    index += 1;
    const work = Promise.all([
      verifyWithJose(token).then((error) => tallies.jose.record(at, error)),
      auth0(token).then((error) => tallies.auth0.record(at, error)),
    ]);
    pending.add(work);
    work.finally(() => pending.delete(work));
  });
  await new Promise((resolve) => lines.once('close', resolve));
  await Promise.all([...pending]);

  let keys;
  try {
    keys = await thumbprints(jose);
  } catch (error) {
    keys = { keys: 0, kid_equals_thumbprint: 0, error: describe(error) };
  }
  process.stdout.write(
    `${JSON.stringify({ jose: tallies.jose, auth0: tallies.auth0, thumbprints: keys })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${(error && error.stack) || error}\n`);
  process.exit(1);
});

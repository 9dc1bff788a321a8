// A DPoP (RFC 9449) client made with panva's `oauth4webapi` (https://github.com/panva/oauth4webapi)
// and `dpop` (https://github.com/panva/dpop), pinned in package.json, for the Rust DPoP interop
// tests: it gets a DPoP-bound access token (from as.js, from the Rust server's login route, or
// given), then calls a protected resource with it the way oauth4webapi's documentation teaches,
// retrying once when the resource server answers `use_dpop_nonce`.
//
// Usage:
//   node client.js [--alg ALG] [--resource URL] [--other-key] <token source>
// where the token source is one of:
//   --issuer URL [--client-id ID] [--client-secret SECRET]
//        oauth4webapi discovery at URL (as.js's issuer, http://127.0.0.1:<port>), then the
//        client credentials grant (client_secret_basic; resource https://api.example.test,
//        scope read) with the DPoP handle, so the token is bound to the client's key. The client
//        defaults to as.js's: dpop-client / dpop-client-secret-0123456789abcdef.
//   --login URL [--username NAME] [--password PASSWORD]
//        POST {"username":NAME,"password":PASSWORD} (application/json) to URL with a `DPoP`
//        proof of the client's key (htm POST, htu URL, no ath, made by dpop.generateProof, or for
//        ES384, which dpop cannot sign, by jose with the same claims) and take `access_token`
//        (and `token_type`) from the JSON answer. When the answer is a use_dpop_nonce error
//        (WWW-Authenticate `DPoP error="use_dpop_nonce"` or a JSON body `error`) with a
//        `DPoP-Nonce` header, the POST is sent once more with that nonce in a new proof. Any
//        other non-2xx answer fails. NAME and PASSWORD default to alice / wonderland.
//   --token TOKEN
//        a token given as is (so not bound to the fresh key this run makes).
// Every option can also come from the environment: DPOP_ALG, DPOP_RESOURCE, DPOP_OTHER_KEY=1,
// DPOP_ISSUER, DPOP_CLIENT_ID, DPOP_CLIENT_SECRET, DPOP_LOGIN, DPOP_USERNAME, DPOP_PASSWORD,
// DPOP_TOKEN; the command line wins.
//
//   --alg ALG       the client key's algorithm: ES256 (default), ES384, PS256, RS256, EdDSA or
//                   Ed25519 (the last two are the same Ed25519 key; oauth4webapi and dpop both
//                   write its proofs' alg as "Ed25519"). A fresh key pair every run, made by
//                   oauth4webapi's generateKeyPair (RSA: 2048 bits).
//   --resource URL  the protected resource to GET with the token (Authorization: DPoP <token>,
//                   a DPoP proof with ath) through oauth.protectedResourceRequest with the DPoP
//                   handle; when the answer is oauth.isDPoPNonceError, the same call once more
//                   (the handle has kept the DPoP-Nonce the answer carried, per origin). Without
//                   it only the token is got (and printed).
//   --other-key     call the resource with a second fresh key pair (same alg), not the one the
//                   token is bound to: the resource server must refuse it.
//
// Output on stdout, one JSON object per line, in this order:
//   {"attempt":1,"request":"token"|"login"|"resource","status":401,"www_authenticate":"..."|null,
//    "dpop_nonce":"..."|null,"proof_nonce":"..."|null,"jkt":"..."}
//        one per HTTP request sent: its answer's status, WWW-Authenticate and DPoP-Nonce
//        headers, the `nonce` claim of the proof that was sent, and the RFC 7638 thumbprint of
//        the key that signed that proof. `attempt` counts from 1 for each request kind.
//   {"access_token":"...","token_type":"DPoP","jkt":"..."}
//        the token (not with --token) and the thumbprint of the key it was requested with
//        (--login: token_type is the login answer's, null when it has none).
//   {"status":200,"body":"..."}
//        last, with --resource: the resource's final answer, status and body text.
// Exits 0 when the run went through, whatever the resource answered; 1 (reason on stderr) when
// it could not: a bad argument, no token (token endpoint or login refused), a network error.
'use strict';

const crypto = require('node:crypto');
const { parseArgs } = require('node:util');
const { pathToFileURL } = require('node:url');

// The packages are ES modules; resolved as `require` would (so NODE_PATH applies).
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

const DEFAULT_CLIENT_ID = 'dpop-client';
const DEFAULT_CLIENT_SECRET = 'dpop-client-secret-0123456789abcdef';
const RESOURCE_INDICATOR = 'https://api.example.test';
const SCOPE = 'read';

function options() {
  const { values } = parseArgs({
    options: {
      alg: { type: 'string' },
      resource: { type: 'string' },
      'other-key': { type: 'boolean' },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      login: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      token: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const env = process.env;
  const opts = {
    alg: values.alg ?? env.DPOP_ALG ?? 'ES256',
    resource: values.resource ?? env.DPOP_RESOURCE,
    otherKey: values['other-key'] ?? ['1', 'true'].includes(env.DPOP_OTHER_KEY),
    issuer: values.issuer ?? env.DPOP_ISSUER,
    clientId: values['client-id'] ?? env.DPOP_CLIENT_ID ?? DEFAULT_CLIENT_ID,
    clientSecret: values['client-secret'] ?? env.DPOP_CLIENT_SECRET ?? DEFAULT_CLIENT_SECRET,
    login: values.login ?? env.DPOP_LOGIN,
    username: values.username ?? env.DPOP_USERNAME ?? 'alice',
    password: values.password ?? env.DPOP_PASSWORD ?? 'wonderland',
    token: values.token ?? env.DPOP_TOKEN,
  };
  const sources = [opts.issuer, opts.login, opts.token].filter((v) => v !== undefined);
  if (sources.length !== 1) {
    throw new Error('give exactly one token source: --issuer URL, --login URL or --token TOKEN');
  }
  if (!['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA', 'Ed25519'].includes(opts.alg)) {
    throw new Error(`unsupported --alg ${opts.alg} (ES256, ES384, PS256, RS256, EdDSA, Ed25519)`);
  }
  return opts;
}

const print = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);

/** The `nonce` claim of a compact JWS's payload (null when none or unreadable). */
function proofNonce(proof) {
  try {
    return JSON.parse(Buffer.from(proof.split('.')[1], 'base64url').toString()).nonce ?? null;
  } catch {
    return null;
  }
}

async function main() {
  const opts = options();
  const oauth = await load('oauth4webapi');
  const dpop = await load('dpop');

  /** A fresh key pair, its DPoP handle, its thumbprint. */
  async function makeKey(client) {
    const keyPair = await oauth.generateKeyPair(opts.alg);
    const handle = oauth.DPoP(client, keyPair);
    return { keyPair, handle, jkt: await handle.calculateThumbprint() };
  }

  // Every request goes through this fetch, which notes the proof it carried.
  let lastProof = null;
  const noteProof = (url, init) => {
    const headers = new Headers(init?.headers);
    lastProof = headers.get('dpop');
    return fetch(url, init);
  };

  const attempts = {};
  function report(request, response, key) {
    attempts[request] = (attempts[request] ?? 0) + 1;
    print({
      attempt: attempts[request],
      request,
      status: response.status,
      www_authenticate: response.headers.get('www-authenticate'),
      dpop_nonce: response.headers.get('dpop-nonce'),
      proof_nonce: lastProof === null ? null : proofNonce(lastProof),
      jkt: key.jkt,
    });
  }

  const client = { client_id: opts.clientId };
  const key = await makeKey(client);

  let token = opts.token;

  if (opts.issuer !== undefined) {
    // The client credentials grant at as.js, DPoP-bound.
    const issuer = new URL(opts.issuer);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }),
    );
    const clientAuth = oauth.ClientSecretBasic(opts.clientSecret);
    const grant = async () => {
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        client,
        clientAuth,
        { resource: RESOURCE_INDICATOR, scope: SCOPE },
        { DPoP: key.handle, [oauth.allowInsecureRequests]: true, [oauth.customFetch]: noteProof },
      );
      report('token', response, key);
      // oauth4webapi gives token_type lower-cased: keep the server's spelling for the output.
      const raw = await response.clone().json().catch(() => ({}));
      const result = await oauth.processClientCredentialsResponse(as, client, response);
      return { ...result, token_type: raw.token_type ?? result.token_type };
    };
    let result;
    try {
      result = await grant();
    } catch (error) {
      if (!oauth.isDPoPNonceError(error)) throw error;
      // The handle has kept the nonce the token endpoint sent: once more with it.
      result = await grant();
    }
    token = result.access_token;
    print({ access_token: result.access_token, token_type: result.token_type, jkt: key.jkt });
  } else if (opts.login !== undefined) {
    // The Rust server's login route: JSON credentials, a DPoP proof without ath.
    const url = opts.login;
    const body = JSON.stringify({ username: opts.username, password: opts.password });
    const proofFor = async (nonce) => {
      if (opts.alg !== 'ES384') {
        return dpop.generateProof(key.keyPair, url, 'POST', nonce);
      }
      // dpop signs P-256 EC keys only: the same proof, signed by jose.
      const jose = await load('jose');
      const { kty, crv, x, y } = await crypto.webcrypto.subtle.exportKey('jwk', key.keyPair.publicKey);
      const claims = { iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), htm: 'POST', htu: url };
      if (nonce !== undefined) claims.nonce = nonce;
      return new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'ES384', typ: 'dpop+jwt', jwk: { kty, crv, x, y } })
        .sign(key.keyPair.privateKey);
    };
    const post = async (nonce) => {
      const response = await noteProof(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', dpop: await proofFor(nonce) },
        body,
        redirect: 'manual',
      });
      report('login', response, key);
      return response;
    };
    const isNonceError = async (response) => {
      if (response.ok || !response.headers.get('dpop-nonce')) return false;
      const challenge = response.headers.get('www-authenticate') || '';
      if (/^\s*dpop\b/i.test(challenge) && /error="?use_dpop_nonce"?/.test(challenge)) return true;
      try {
        return (await response.clone().json()).error === 'use_dpop_nonce';
      } catch {
        return false;
      }
    };
    let response = await post(undefined);
    if (await isNonceError(response)) {
      response = await post(response.headers.get('dpop-nonce'));
    }
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`login refused: ${response.status} ${text}`);
    }
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new Error(`login answer is not JSON: ${text}`);
    }
    if (typeof answer.access_token !== 'string') {
      throw new Error(`login answer has no access_token: ${text}`);
    }
    token = answer.access_token;
    print({ access_token: token, token_type: answer.token_type ?? null, jkt: key.jkt });
  }

  if (opts.resource === undefined) {
    return;
  }

  // The protected resource, with the key the token is bound to (or, --other-key, another).
  const resourceKey = opts.otherKey ? await makeKey(client) : key;
  const url = new URL(opts.resource);
  const call = async () => {
    let response;
    try {
      response = await oauth.protectedResourceRequest(token, 'GET', url, new Headers(), null, {
        DPoP: resourceKey.handle,
        [oauth.allowInsecureRequests]: true,
        [oauth.customFetch]: noteProof,
      });
    } catch (error) {
      if (error instanceof oauth.WWWAuthenticateChallengeError) {
        report('resource', error.response, resourceKey);
      }
      throw error;
    }
    report('resource', response, resourceKey);
    return response;
  };
  let response;
  try {
    response = await call();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) {
      // The handle has kept the DPoP-Nonce of that answer: once more, its proof carries it.
      try {
        response = await call();
      } catch (again) {
        if (!(again instanceof oauth.WWWAuthenticateChallengeError)) throw again;
        response = again.response;
      }
    } else if (error instanceof oauth.WWWAuthenticateChallengeError) {
      response = error.response;
    } else {
      throw error;
    }
  }
  print({ status: response.status, body: await response.text() });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

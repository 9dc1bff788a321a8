// A DPoP proof oracle (RFC 9449) for the Rust DPoP interop tests: key pairs and proofs made by
// panva's `dpop` package (https://github.com/panva/dpop), pinned in package.json, so the tests
// can check that what the library accepts and refuses matches proofs a reference client makes.
// It runs for as long as the test needs it: one request per line of stdin (a JSON object), one
// answer per line of stdout (a JSON object), in the order the requests came. Nothing else is
// written on stdout; diagnostics go to stderr. It exits when its stdin is closed.
//
// Requests and answers:
//
//   {"op":"key","alg":"ES256"}
//     -> {"id":1,"alg":"ES256","signer":"dpop","jwk":{...},"jkt":"..."}
//     A fresh key pair, kept under `id` (1, 2, ... in the order they were made). `jwk` is the
//     public key as the proofs' `jwk` header carries it, `jkt` its RFC 7638 SHA-256 thumbprint
//     (base64url, from `dpop`'s calculateThumbprint), `alg` the `alg` header of its proofs and
//     `signer` the package that signs them:
//       "ES256", "PS256", "RS256"   dpop (generateKeyPair and generateProof), alg as asked
//       "Ed25519"                   dpop, an Ed25519 key; dpop names its proofs' alg "Ed25519"
//                                   (the fully-specified name, RFC 9864), not "EdDSA"
//       "EdDSA"                     an Ed25519 key made by dpop, its proofs signed by `jose`
//                                   with alg "EdDSA" (RFC 8037), which dpop never writes
//       "ES384"                     a P-384 key (WebCrypto), its proofs signed by `jose`: dpop
//                                   2.x makes and signs only P-256 EC keys
//     RSA keys are 2048 bits.
//
//   {"op":"proof","key":1,"htm":"GET","htu":"http://127.0.0.1:8000/protected",
//    "token":"<access token>","nonce":"<server nonce>","additional":{...}}
//     -> {"proof":"<compact JWS>"}
//     A new proof signed with key `key`: header {alg, typ: "dpop+jwt", jwk}, claims iat (now),
//     jti (a random UUID), htm, htu, nonce (when given) and ath (when `token` is given: base64url
//     SHA-256 of the token). For dpop keys it is exactly dpop.generateProof(keyPair, htu, htm,
//     nonce, token, additional). `token`, `nonce` and `additional` (extra claims; the ones above
//     always win over them) are optional. htm and htu are written as given, so a test can make a
//     proof for the wrong method or URL.
//
//   {"op":"ath","token":"<access token>"}
//     -> {"ath":"<base64url SHA-256 of the token>"}
//     The token's bytes are its UTF-8 encoding, as dpop and oauth4webapi hash it (the same as
//     RFC 9449's ASCII for any token a server issues).
//
// Any request that cannot be answered (not JSON, unknown op or key, a missing or mistyped
// field, an unsupported alg) gets {"error":"<why>"} and the oracle goes on.
'use strict';

const crypto = require('node:crypto');
const readline = require('node:readline');
const { pathToFileURL } = require('node:url');

// The packages are ES modules; resolved as `require` would (so NODE_PATH applies).
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

/** The public members of a JWK, as dpop puts them in the proof's `jwk` header. */
async function publicJwk(publicKey) {
  const { kty, crv, e, n, x, y } = await crypto.webcrypto.subtle.exportKey('jwk', publicKey);
  return JSON.parse(JSON.stringify({ kty, crv, e, n, x, y }));
}

function optionalString(request, name) {
  const value = request[name];
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw new Error(`"${name}" must be a string`);
  }
  return value ?? undefined;
}

function requiredString(request, name) {
  const value = request[name];
  if (typeof value !== 'string' || value === '') {
    throw new Error(`"${name}" must be a non-empty string`);
  }
  return value;
}

async function main() {
  const dpop = await load('dpop');
  const jose = await load('jose');

  /** id -> { keyPair, alg, signer } */
  const keys = new Map();
  let nextId = 1;

  async function makeKey(alg) {
    switch (alg) {
      case 'ES256':
      case 'PS256':
      case 'RS256':
      case 'Ed25519':
        return { keyPair: await dpop.generateKeyPair(alg), alg, signer: 'dpop' };
      case 'EdDSA':
        return { keyPair: await dpop.generateKeyPair('Ed25519'), alg, signer: 'jose' };
      case 'ES384':
        return {
          keyPair: await crypto.webcrypto.subtle.generateKey(
            { name: 'ECDSA', namedCurve: 'P-384' },
            false,
            ['sign', 'verify'],
          ),
          alg,
          signer: 'jose',
        };
      default:
        throw new Error(`unsupported alg ${JSON.stringify(alg)} (ES256, ES384, PS256, RS256, EdDSA, Ed25519)`);
    }
  }

  async function joseProof(entry, htu, htm, nonce, token, additional) {
    const claims = {
      ...additional,
      iat: Math.floor(Date.now() / 1000),
      jti: crypto.randomUUID(),
      htm,
      htu,
    };
    if (nonce !== undefined) claims.nonce = nonce;
    if (token !== undefined) {
      claims.ath = crypto.createHash('sha256').update(token).digest('base64url');
    }
    return new jose.SignJWT(claims)
      .setProtectedHeader({ alg: entry.alg, typ: 'dpop+jwt', jwk: await publicJwk(entry.keyPair.publicKey) })
      .sign(entry.keyPair.privateKey);
  }

  async function answer(request) {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw new Error('a request is a JSON object');
    }
    switch (request.op) {
      case 'key': {
        const entry = await makeKey(request.alg);
        const id = nextId;
        nextId += 1;
        keys.set(id, entry);
        return {
          id,
          alg: entry.alg,
          signer: entry.signer,
          jwk: await publicJwk(entry.keyPair.publicKey),
          jkt: await dpop.calculateThumbprint(entry.keyPair.publicKey),
        };
      }
      case 'proof': {
        const entry = keys.get(request.key);
        if (!entry) {
          throw new Error(`no key ${JSON.stringify(request.key)}`);
        }
        const htm = requiredString(request, 'htm');
        const htu = requiredString(request, 'htu');
        const token = optionalString(request, 'token');
        const nonce = optionalString(request, 'nonce');
        const { additional } = request;
        if (additional !== undefined
          && (typeof additional !== 'object' || additional === null || Array.isArray(additional))) {
          throw new Error('"additional" must be an object');
        }
        const proof = entry.signer === 'dpop'
          ? await dpop.generateProof(entry.keyPair, htu, htm, nonce, token, additional)
          : await joseProof(entry, htu, htm, nonce, token, additional);
        return { proof };
      }
      case 'ath': {
        const token = requiredString(request, 'token');
        return { ath: crypto.createHash('sha256').update(token, 'utf8').digest('base64url') };
      }
      default:
        throw new Error(`unknown op ${JSON.stringify(request.op)} (key, proof, ath)`);
    }
  }

  async function handle(line) {
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      return { error: `not JSON: ${error.message}` };
    }
    try {
      return await answer(request);
    } catch (error) {
      return { error: error.message || String(error) };
    }
  }

  // Answers in request order, one at a time.
  let queue = Promise.resolve();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    queue = queue
      .then(() => handle(line))
      .then((reply) => {
        process.stdout.write(`${JSON.stringify(reply)}\n`);
      });
  });
  // The test closes our stdin when it is done (or dies): answer what is pending, then stop.
  lines.on('close', () => {
    queue.then(() => process.exit(0));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

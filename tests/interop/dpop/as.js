// panva's `oidc-provider` (https://github.com/panva/node-oidc-provider), pinned in package.json,
// as an authorization server issuing DPoP-bound (RFC 9449) JWT access tokens through the client
// credentials grant, for the Rust DPoP interop tests: client.js gets a token here with its DPoP
// key, then presents it to the Rust resource server, which validates it against this issuer's
// JWKS and checks its `cnf.jkt` against the proof.
//
// One confidential client (`client_secret_basic`, the client_credentials grant only):
//   client_id      dpop-client
//   client_secret  dpop-client-secret-0123456789abcdef
// One resource server, `https://api.example.test` (the default resource too, when a token
// request names none): scope `read`, JWT access tokens (`typ: at+jwt`) signed ES256 with the
// provider's key, `aud` the resource. A token request with a DPoP proof gets a token with
// `cnf.jkt` (the proof key's RFC 7638 thumbprint) and `token_type: DPoP`; one without gets a
// Bearer token. DPoP proofs are accepted with any asymmetric JWS alg (ES256, ES384, PS256,
// RS256, Ed25519, EdDSA, ...); the provider asks for no DPoP nonces (`requireNonce` is off and
// no `nonceSecret` is set), and refuses a proof's replay (`allowReplay: false`).
//
// The provider's JWKS holds one ES256 signing key (kid `es256-1`), generated at start; it is
// published at the discovery document's `jwks_uri` (`<issuer>/jwks`).
//
// Listens on 127.0.0.1 only, on the port given as the first argument (0, the default, lets the
// system pick a free one); the issuer is `http://127.0.0.1:<port>`. Prints the port it listens
// on as the first line of stdout. Logs grant errors and server errors to stderr, one line each.
// Stops when its stdin is closed.
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const { pathToFileURL } = require('node:url');

/** The client client.js uses. */
const CLIENT = {
  client_id: 'dpop-client',
  client_secret: 'dpop-client-secret-0123456789abcdef',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
  // The provider's only key is ES256 (the default, RS256, would make the client invalid).
  id_token_signed_response_alg: 'ES256',
};

/** The one resource server. */
const RESOURCE = 'https://api.example.test';

async function main() {
  // oidc-provider is an ES module; resolved as `require` would (so NODE_PATH applies).
  const { default: Provider, errors } = await import(
    pathToFileURL(require.resolve('oidc-provider')).href
  );

  const requested = Number(process.argv[2] || 0);
  let handler = (req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(requested, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'es256-1', alg: 'ES256', use: 'sig' };

  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [CLIENT],
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: {
        enabled: true,
        // No nonces on the authorization server: none is issued and none is required.
        nonceSecret: undefined,
        requireNonce: () => false,
        allowReplay: false,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        async getResourceServerInfo(ctx, resourceIndicator) {
          if (resourceIndicator === RESOURCE) {
            return {
              scope: 'read',
              audience: RESOURCE,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'ES256' } },
            };
          }
          throw new errors.InvalidTarget();
        },
      },
    },
    enabledJWA: {
      dPoPSigningAlgValues: [
        'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512',
        'Ed25519', 'EdDSA',
      ],
    },
    ttl: {
      ClientCredentials: 600,
    },
    clientBasedCORS: () => false,
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  provider.on('grant.error', (ctx, error) => {
    console.error(`grant.error ${error.error}: ${error.error_detail || error.error_description}`);
  });
  provider.on('server_error', (ctx, error) => {
    console.error(`server_error ${error.stack}`);
  });

  handler = provider.callback();
  process.stdout.write(`${port}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

// The test closes our stdin when it is done (or dies): stop then.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

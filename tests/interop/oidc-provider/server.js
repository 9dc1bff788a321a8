// panva's `oidc-provider` (https://github.com/panva/node-oidc-provider), pinned in package.json,
// as an OpenID Provider with refresh-token rotation: the reference side of
// tests/system/oidc_provider.rs, which runs scenario.js against it.
//
// One confidential client (`client_secret_basic`) with the authorization_code and refresh_token
// grants. A refresh token is issued when the code was granted `offline_access` (which OpenID
// Connect only grants with `prompt=consent`), and every refresh rotates it
// (`rotateRefreshToken: true`): the answer carries a new refresh token and the presented one is
// consumed; presenting a consumed one again revokes the grant (every token of that login) and
// answers `invalid_grant`. Introspection and revocation are enabled; userinfo is on by default.
//
// There is no browser: the interactions (login, then consent) finish without a form. The
// provider sends the user agent to `/interaction/<uid>`, where the middleware below logs in the
// account named by the authorization request's `login_hint` (`alice` without one) and grants
// the scopes the consent prompt asks for, then sends it back to the authorization endpoint. The
// user agent (scenario.js) follows the redirects and keeps the cookies itself.
//
// Listens on 127.0.0.1 only, on the port given as the first argument (0, the default, lets the
// system pick a free one); the issuer is `http://127.0.0.1:<port>`. Prints the port it listens
// on as the first line of stdout. Logs the provider's grant errors and grant revocations to
// stderr, one line each, for the test's output. Stops when its stdin is closed.
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const { pathToFileURL } = require('node:url');

/** The client scenario.js uses. */
const CLIENT = {
  client_id: 'rotation-client',
  client_secret: 'rotation-client-secret-0123456789abcdef',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1/callback'],
  token_endpoint_auth_method: 'client_secret_basic',
};

async function main() {
  // oidc-provider is an ES module; resolved as `require` would (so NODE_PATH applies).
  const { default: Provider } = await import(pathToFileURL(require.resolve('oidc-provider')).href);

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

  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'rs256-1', alg: 'RS256', use: 'sig' };

  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [CLIENT],
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    async findAccount(ctx, id) {
      return { accountId: id, async claims() { return { sub: id }; } };
    },
    scopes: ['openid', 'offline_access'],
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async () => true },
      userinfo: { enabled: true },
    },
    issueRefreshToken: async (ctx, client, code) => (
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access')
    ),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      RefreshToken: 3600,
    },
    clientBasedCORS: () => false,
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
    if (!match || ctx.method !== 'GET') {
      await next();
      return;
    }
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = interaction;
    let result;
    if (prompt.name === 'login') {
      result = { login: { accountId: params.login_hint || 'alice' } };
    } else if (prompt.name === 'consent') {
      const grant = interaction.grantId
        ? await provider.Grant.find(interaction.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const { details } = prompt;
      if (details.missingOIDCScope) {
        grant.addOIDCScope(details.missingOIDCScope.join(' '));
      }
      if (details.missingOIDCClaims) {
        grant.addOIDCClaims(details.missingOIDCClaims);
      }
      for (const [indicator, scopes] of Object.entries(details.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    } else {
      result = { error: 'access_denied', error_description: `unexpected prompt ${prompt.name}` };
    }
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
  });

  provider.on('grant.error', (ctx, error) => {
    console.error(`grant.error ${error.error}: ${error.error_detail || error.error_description}`);
  });
  provider.on('grant.revoked', (ctx, grantId) => {
    console.error(`grant.revoked ${grantId}`);
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

// The refresh-token rotation scenario against server.js (oidc-provider), for
// tests/system/oidc_provider.rs: `node scenario.js <port>` prints ONE JSON object on stdout, each
// step's answer, and exits 0 (non-zero, with the reason on stderr, when the scenario itself could
// not be run, e.g. a login that gave no refresh token).
//
// Each step is `{ status, error, new_refresh_token, ... }`: the HTTP status, the OAuth `error`
// code of the body (null when there is none) and, for a token endpoint answer, whether it carries
// a refresh token that differs from the one presented (null when the answer is an error).
//
// The steps, in order:
//   login                 authorization code (openid offline_access, prompt=consent) for
//                         refresh token R0 and access token A0
//   other_login           a second, independent login (its own user agent and session): R0'
//   rotate                refresh with R0 -> R1
//   rotate_again          refresh with R1 -> R2 and A2
//   access_before_reuse   introspect A2, call userinfo with it
//   reuse                 refresh with R1 again (already rotated)
//   newest_after_reuse    refresh with R2
//   access_after_reuse    introspect A2, call userinfo with it
//   original_after_reuse  refresh with R0
//   other_session         refresh with R0' (after the reuse)
//   concurrent            a fresh login; its refresh token refreshed twice at once (`first`,
//                         `second`), then each new refresh token those gave refreshed in turn
//                         (`first_new_after`, `second_new_after`)
//
// The client is server.js's; the user agent follows redirects and keeps cookies by hand.
'use strict';

const crypto = require('node:crypto');

const CLIENT_ID = 'rotation-client';
const CLIENT_SECRET = 'rotation-client-secret-0123456789abcdef';
const REDIRECT_URI = 'http://127.0.0.1/callback';
const SCOPE = 'openid offline_access';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node scenario.js <port>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const b64url = (buffer) => buffer.toString('base64url');
const basic = `Basic ${Buffer.from(
  `${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`,
).toString('base64')}`;

/** A user agent's cookies: name and path -> value, sent where the path matches. */
class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  store(url, response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key, val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') {
          path = val;
        } else if (key.toLowerCase() === 'expires' && Date.parse(val) <= Date.now()) {
          expired = true;
        } else if (key.toLowerCase() === 'max-age' && Number(val) <= 0) {
          expired = true;
        }
      }
      const key = `${name}\u0000${path}`;
      if (expired) {
        this.cookies.delete(key);
      } else {
        this.cookies.set(key, { name, path, value });
      }
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter(({ path }) => pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }
}

async function discovery() {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (response.status !== 200) {
    throw new Error(`discovery answered ${response.status}`);
  }
  return response.json();
}

/** The body as JSON, or `{}`. */
async function json(response) {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** A step's answer from a token endpoint response; `presented` is the refresh token sent. */
async function tokenStep(response, presented) {
  const body = await json(response);
  const ok = response.status === 200;
  return {
    step: {
      status: response.status,
      error: body.error ?? null,
      new_refresh_token: ok ? typeof body.refresh_token === 'string' && body.refresh_token !== presented : null,
      access_token: ok ? typeof body.access_token === 'string' : null,
    },
    body,
  };
}

async function token(config, params) {
  return fetch(config.token_endpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
}

/** A login by a new user agent: the authorization code flow to the token endpoint's answer. */
async function login(config, account) {
  const jar = new CookieJar();
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
  const state = b64url(crypto.randomBytes(16));
  const authorization = new URL(config.authorization_endpoint);
  for (const [name, value] of Object.entries({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    prompt: 'consent',
    login_hint: account,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) {
    authorization.searchParams.set(name, value);
  }
  let url = authorization.href;
  for (let hop = 0; ; hop += 1) {
    if (hop === 20) {
      throw new Error('the authorization request did not come back to the client in 20 redirects');
    }
    const cookie = jar.header(url);
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    jar.store(url, response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || !location) {
      throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
    }
    await response.arrayBuffer();
    url = new URL(location, url).href;
    if (url.startsWith(`${REDIRECT_URI}?`)) {
      break;
    }
  }
  const callback = new URL(url).searchParams;
  if (callback.get('error') || callback.get('state') !== state || !callback.get('code')) {
    throw new Error(`the authorization answered ${url}`);
  }
  const { step, body } = await tokenStep(
    await token(config, {
      grant_type: 'authorization_code',
      code: callback.get('code'),
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }),
    undefined,
  );
  if (step.status !== 200 || !body.refresh_token || !body.access_token) {
    throw new Error(`the code exchange answered ${step.status}: ${JSON.stringify(body)}`);
  }
  step.scope = body.scope ?? null;
  return { step, refreshToken: body.refresh_token, accessToken: body.access_token };
}

async function refresh(config, refreshToken) {
  const { step, body } = await tokenStep(
    await token(config, { grant_type: 'refresh_token', refresh_token: refreshToken }),
    refreshToken,
  );
  return { step, refreshToken: body.refresh_token, accessToken: body.access_token };
}

/** Introspection of an access token, and userinfo with it. */
async function access(config, accessToken) {
  const introspection = await fetch(config.introspection_endpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: accessToken, token_type_hint: 'access_token' }).toString(),
  });
  const body = await json(introspection);
  const userinfo = await fetch(config.userinfo_endpoint, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  const userinfoBody = await json(userinfo);
  return {
    status: introspection.status,
    error: body.error ?? null,
    new_refresh_token: null,
    active: typeof body.active === 'boolean' ? body.active : null,
    sub: body.sub ?? null,
    userinfo_status: userinfo.status,
    userinfo_error: userinfoBody.error ?? null,
  };
}

async function main() {
  const config = await discovery();
  const steps = {};

  const first = await login(config, 'alice');
  steps.login = first.step;
  const other = await login(config, 'alice');
  steps.other_login = other.step;

  const r1 = await refresh(config, first.refreshToken);
  steps.rotate = r1.step;
  const r2 = await refresh(config, r1.refreshToken);
  steps.rotate_again = r2.step;
  steps.access_before_reuse = await access(config, r2.accessToken);

  steps.reuse = (await refresh(config, r1.refreshToken)).step;
  steps.newest_after_reuse = (await refresh(config, r2.refreshToken)).step;
  steps.access_after_reuse = await access(config, r2.accessToken);
  steps.original_after_reuse = (await refresh(config, first.refreshToken)).step;
  steps.other_session = (await refresh(config, other.refreshToken)).step;

  const fresh = await login(config, 'alice');
  const [a, b] = await Promise.all([
    refresh(config, fresh.refreshToken),
    refresh(config, fresh.refreshToken),
  ]);
  steps.concurrent = {
    login: fresh.step,
    first: a.step,
    second: b.step,
    first_new_after: a.refreshToken ? (await refresh(config, a.refreshToken)).step : null,
    second_new_after: b.refreshToken ? (await refresh(config, b.refreshToken)).step : null,
  };

  process.stdout.write(`${JSON.stringify(steps)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

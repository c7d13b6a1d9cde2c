// openid-client 6 (on oauth4webapi, the strictest OAuth 2.0 client in wide
// use) against sdkauth's token endpoint. Run by
// cmd/sdkauth/oauthlib_test.go, which starts sdkauth and passes SDKAUTH_URL,
// a service client (CLIENT_ID, CLIENT_SECRET with the admin and tokens:admin
// scopes) and a user (USERNAME, PASSWORD).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} is set`);
  return v;
};
const base = env('SDKAUTH_URL');
const clientId = env('CLIENT_ID');
const clientSecret = env('CLIENT_SECRET');
const username = env('USERNAME');
const password = env('PASSWORD');

const server = { issuer: base, token_endpoint: `${base}/v1/token` };

// configure makes a client configuration; sdkauth dev serves plain HTTP.
function configure(id, auth) {
  const config = new client.Configuration(server, id, undefined, auth);
  client.allowInsecureRequests(config);
  return config;
}
const confidential = (secret, style = client.ClientSecretBasic) => configure(clientId, style(secret));
const publicApp = () => configure('a-mobile-app', client.None());

// oauthError is the error the library reports for a refused request.
async function oauthError(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('the request succeeded');
}

test('client credentials, in both authentication styles, with scopes', async () => {
  for (const style of [client.ClientSecretBasic, client.ClientSecretPost]) {
    const tokens = await client.clientCredentialsGrant(confidential(clientSecret, style));
    assert.ok(tokens.access_token);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'admin tokens:admin');
    assert.equal(tokens.refresh_token, undefined);

    const narrowed = await client.clientCredentialsGrant(confidential(clientSecret, style), { scope: 'admin' });
    assert.equal(narrowed.scope, 'admin');

    const err = await oauthError(client.clientCredentialsGrant(confidential(clientSecret, style), { scope: 'tokens:user' }));
    assert.equal(err.error, 'invalid_scope');
    assert.equal(err.status, 400);
  }
});

test('a wrong secret is invalid_client in both authentication styles', async () => {
  // In the body: an error response, as RFC 6749 §5.2 has it.
  const post = await oauthError(client.clientCredentialsGrant(confidential('not-the-secret', client.ClientSecretPost)));
  assert.equal(post.error, 'invalid_client', `${post.code} ${post.message}`);
  assert.equal(post.status, 401);
  assert.equal(post.cause.code, 'invalid_client');

  // By HTTP Basic: the 401 carries the challenge RFC 6749 §5.2 requires
  // then, which the library reports as such, with the error in the body.
  const basic = await oauthError(client.clientCredentialsGrant(confidential('not-the-secret', client.ClientSecretBasic)));
  assert.equal(basic.code, 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', basic.message);
  assert.equal(basic.status, 401);
  assert.equal(basic.cause[0].scheme, 'basic');
  assert.equal((await basic.response.json()).error, 'invalid_client');
});

test('a public client: password grant, then refresh', async () => {
  const app = publicApp();
  const tokens = await client.genericGrantRequest(app, 'password', { username, password });
  assert.ok(tokens.access_token);
  assert.ok(tokens.refresh_token);
  assert.equal(tokens.user.username, username);

  const refreshed = await client.refreshTokenGrant(app, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
});

test('each error code reads back as the library reports it', async () => {
  const app = publicApp();
  const cases = [
    ['wrong password', () => client.genericGrantRequest(app, 'password', { username, password: 'not the password' }), 'invalid_grant', 400],
    ['unknown refresh token', () => client.refreshTokenGrant(app, 'not-a-refresh-token'), 'invalid_grant', 400],
    ['unsupported grant', () => client.genericGrantRequest(app, 'urn:example:unknown', {}), 'unsupported_grant_type', 400],
    ['missing username', () => client.genericGrantRequest(app, 'password', { password }), 'invalid_request', 400],
    ['scope on a user grant', () => client.genericGrantRequest(app, 'password', { username, password, scope: 'admin' }), 'invalid_scope', 400],
    ['ttl out of range', () => client.genericGrantRequest(app, 'password', { username, password, ttl: '5' }), 'invalid_request', 400],
  ];
  for (const [name, request, code, status] of cases) {
    const err = await oauthError(request());
    assert.equal(err.error, code, `${name}: ${err.code} ${err.message}`);
    assert.equal(err.status, status, name);
    assert.ok(err.error_description, `${name} has an error_description`);
  }
});

// The Vonage Client SDK for JavaScript (@vonage/client-sdk) against sdkauth
// and the emulator: two users sign up at sdkauth, open Client SDK sessions at
// the emulator with sdkauth's tokens, and chat. Run by
// cmd/sdkauth/clientsdk_test.go, which starts sdkauth and the emulator and
// passes SDKAUTH_URL, EMULATOR_URL, VONAGE_APPLICATION_ID and
// VONAGE_PRIVATE_KEY (the application's key, to forge refused tokens with).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { VonageClient } from '@vonage/client-sdk';

const env = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} is set`);
  return v;
};
const sdkauth = env('SDKAUTH_URL');
const emulator = env('EMULATOR_URL');
const applicationId = env('VONAGE_APPLICATION_ID');
const applicationKey = env('VONAGE_PRIVATE_KEY');

const run = Date.now().toString(36);
const password = 'correct horse battery';
const clients = [];
after(async () => {
  await Promise.allSettled(clients.map((c) => c.deleteSession()));
});

// newClient makes a Client SDK client pointed at the emulator, recording the
// conversation events it raises.
function newClient() {
  const client = new VonageClient({ loggingLevel: 'Assert' });
  client.setConfig({ apiUrl: emulator, websocketUrl: emulator });
  client.events = [];
  client.waiters = [];
  client.on('conversationEvent', (ev) => {
    client.events.push(ev);
    client.waiters = client.waiters.filter((w) => !w(ev));
  });
  clients.push(client);
  return client;
}

// nextEvent resolves with the first (past or future) event matching pred.
function nextEvent(client, pred, what) {
  const seen = client.events.find(pred);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within 10 s`)), 10000);
    client.waiters.push((ev) => {
      if (!pred(ev)) return false;
      clearTimeout(timer);
      resolve(ev);
      return true;
    });
  });
}

async function post(path, body) {
  const res = await fetch(sdkauth + path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// signUp signs a new user up at sdkauth and returns its token response.
const signUp = (username) => post('/v1/signup', { username, password });

// forge signs claims with a key (RS256), for tokens sdkauth would never mint.
function forge(key, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const acl = { paths: { '/*/sessions/**': {}, '/*/conversations/**': {}, '/*/users/**': {} } };

const rejection = async (promise) => {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('the call succeeded');
};

test('two users chat with sdkauth tokens through the emulator', async () => {
  const a = await signUp(`chat-a-${run}`);
  const b = await signUp(`chat-b-${run}`);
  const clientA = newClient();
  const clientB = newClient();
  const sessionA = await clientA.createSession(a.access_token);
  const sessionB = await clientB.createSession(b.access_token);
  assert.match(sessionA, /^SES-/);
  assert.notEqual(sessionA, sessionB);

  const me = await clientA.getUser('me');
  assert.equal(me.name, a.user.username);
  assert.equal(me.id, a.user.vonage_user_id);

  const cid = await clientA.createConversation({ name: `chat-${run}`, displayName: 'Chat' });
  await clientA.joinConversation(cid);
  await clientB.joinConversation(cid);
  // A sees B join, pushed over its session.
  const joined = await nextEvent(clientA, (ev) => ev.kind === 'member:joined' && ev.body.user.name === b.user.username, 'member:joined of B');
  assert.equal(joined.conversationId, cid);

  await clientA.sendMessageTextEvent(cid, 'hello from A');
  const got = await nextEvent(clientB, (ev) => ev.kind === 'message:text', 'the text from A');
  assert.equal(got.body.text, 'hello from A');
  assert.equal(got.conversationId, cid);
  assert.equal(got.from.user.name, a.user.username);

  await clientB.sendMessageTextEvent(cid, 'hello from B');
  const reply = await nextEvent(clientA, (ev) => ev.kind === 'message:text' && ev.body.text === 'hello from B', 'the reply from B');
  assert.ok(reply.id > got.id, 'event ids grow');

  const history = await clientB.getConversationEvents(cid, { order: 'asc', pageSize: 100 });
  const texts = history.events.filter((ev) => ev.kind === 'message:text').map((ev) => ev.body.text);
  assert.deepEqual(texts, ['hello from A', 'hello from B']);

  const member = await clientB.getConversationMember(cid, 'me');
  assert.equal(member.state, 'JOINED');
  const convs = await clientB.getConversations({ pageSize: 10 });
  assert.ok(convs.conversations.some((c) => c.id === cid));

  // The session shows at the platform, and refreshes with a new token.
  const sessions = await fetch(`${emulator}/v1/users/${a.user.vonage_user_id}/sessions`, {
    headers: { Authorization: `Bearer ${a.access_token}` },
  }).then((r) => r.json());
  assert.ok(sessions._embedded.sessions.some((s) => s.id === sessionA));
  const refreshed = await post('/v1/token', { grant_type: 'refresh_token', refresh_token: a.refresh_token });
  await clientA.refreshSession(refreshed.access_token); // PUT /v0.2/sessions/{id} with the new token
  assert.equal((await clientA.getUser('me')).name, a.user.username);

  await clientB.leaveConversation(cid);
  const left = await nextEvent(clientA, (ev) => ev.kind === 'member:left', 'member:left of B');
  assert.equal(left.body.user.name, b.user.username);
});

test('a session ends when its token expires, unless refreshed with a token from sdkauth', async () => {
  const user = await signUp(`expiry-${run}`);
  const short = () => forge(applicationKey, {
    application_id: applicationId, iat: now(), exp: now() + 2, jti: randomUUID(), sub: user.user.username, acl,
  });
  const expiring = newClient();
  const ended = new Promise((resolve) => expiring.on('sessionError', resolve));
  await expiring.createSession(short());
  const kept = newClient();
  const keptSession = await kept.createSession(short());
  await kept.refreshSession(user.access_token); // sdkauth's token lives 15 minutes

  assert.equal(await ended, 'EXPIRED_TOKEN');
  // The SDK may report the expiry from its own timer a moment before the
  // platform's ends the session, so the listing is polled, for up to 5 s.
  const listed = async () => (await fetch(`${emulator}/v0.3/users/${user.user.vonage_user_id}/sessions`, {
    headers: { Authorization: `Bearer ${user.access_token}` },
  }).then((r) => r.json()))._embedded.sessions.map((s) => s.id);
  let ids = await listed();
  for (let tries = 0; ids.length !== 1 && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    ids = await listed();
  }
  assert.deepEqual(ids, [keptSession]);
  assert.equal((await kept.getUser('me')).name, user.user.username);
});

test('refused tokens never open a session', async () => {
  const user = await signUp(`refused-${run}`);
  const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const claims = () => ({ application_id: applicationId, iat: now(), exp: now() + 300, jti: randomUUID(), sub: user.user.username, acl });

  const cases = [
    ['signed by another key', forge(otherKey, claims()), 'session:error:invalid-token'],
    ['expired', forge(applicationKey, { ...claims(), iat: now() - 7200, exp: now() - 3600 }), 'session:error:expired-token'],
    ['for a user that does not exist', forge(applicationKey, { ...claims(), sub: `nobody-${run}` }), 'session:error:invalid-token'],
    ['without the sessions path in its acl', forge(applicationKey, { ...claims(), acl: { paths: { '/*/users/**': {} } } }), 'system:error:permission'],
  ];
  for (const [name, token, code] of cases) {
    const client = newClient();
    const err = await rejection(client.createSession(token));
    assert.equal(err.code, code, `${name}: ${err.code} ${err.message}`);
  }
  // And the application's key with valid claims does open one.
  const ok = newClient();
  assert.match(await ok.createSession(forge(applicationKey, claims())), /^SES-/);
});

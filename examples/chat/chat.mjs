#!/usr/bin/env node
// A terminal chat on the Vonage Client SDK for JavaScript. It logs in at
// sdkauth (or signs up with --signup), opens a Client SDK session with the
// token, joins a conversation by name (creating it when nobody has), prints
// what is said there and sends each line typed. It refreshes its token at
// sdkauth before it expires (refreshSession), and opens a new session with a
// fresh one if the session ends on an expired token.
//
//   node chat.mjs [--signup] <username> <password> [conversation]
//
// SDKAUTH_URL (default http://localhost:8080) is sdkauth; VONAGE_URL (default
// http://127.0.0.1:8090, where `make run` serves the emulator) is the
// platform; TOKEN_TTL (seconds) asks for shorter-lived tokens.
import { createInterface } from 'node:readline';
import { VonageClient } from '@vonage/client-sdk';

const sdkauth = process.env.SDKAUTH_URL || 'http://localhost:8080';
const vonage = process.env.VONAGE_URL || 'http://127.0.0.1:8090';
const ttl = process.env.TOKEN_TTL ? Number(process.env.TOKEN_TTL) : undefined;

const args = process.argv.slice(2);
const signup = args[0] === '--signup';
if (signup) args.shift();
const [username, password, conversationName = 'general'] = args;
if (!username || !password) {
  console.error('usage: node chat.mjs [--signup] <username> <password> [conversation]');
  process.exit(2);
}

// tokens asks sdkauth for a token response (RFC 6749 §5.1, plus the user).
async function tokens(path, body) {
  const res = await fetch(sdkauth + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(ttl ? { ...body, ttl } : body),
  });
  const json = await res.json();
  if (!res.ok || !json.access_token) {
    throw new Error(`${path}: ${res.status} ${json.code || json.error || ''} ${json.detail || json.error_description || ''}`);
  }
  return json;
}

let current = signup
  ? await tokens('/v1/signup', { username, password })
  : await tokens('/v1/token', { grant_type: 'password', username, password });

const refresh = async () => {
  current = await tokens('/v1/token', { grant_type: 'refresh_token', refresh_token: current.refresh_token });
  return current.access_token;
};

const client = new VonageClient({ loggingLevel: 'Assert' });
client.setConfig({ apiUrl: vonage, websocketUrl: vonage });

// Refresh ahead of expiry: a new token from sdkauth, handed to the session.
let refreshTimer;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const ms = Math.max(5, current.expires_in * 0.75) * 1000;
  refreshTimer = setTimeout(async () => {
    try {
      await client.refreshSession(await refresh());
      scheduleRefresh();
    } catch (err) {
      console.error(`* refresh failed: ${err.code || err.message}`);
    }
  }, ms);
  refreshTimer.unref();
}

// If the session ends on an expired token anyway, start a new one.
client.on('sessionError', async (reason) => {
  if (reason !== 'EXPIRED_TOKEN') {
    console.error(`* session ended: ${reason}`);
    return;
  }
  console.log('* token expired: refreshing at sdkauth and opening a new session');
  await client.createSession(await refresh());
  scheduleRefresh();
});

let conversation; // its id, once found or created
const names = new Map(); // member id → user name, for events without one
client.on('conversationEvent', (ev) => {
  if (ev.conversationId !== conversation) return;
  const who = ev.from?.user?.name || names.get(ev.from?.memberId) || 'someone';
  switch (ev.kind) {
    case 'message:text':
      console.log(`${who}: ${ev.body.text}`);
      break;
    case 'member:joined':
      names.set(ev.body.memberId, ev.body.user.name);
      console.log(`* ${ev.body.user.name} joined`);
      break;
    case 'member:left':
      console.log(`* ${ev.body.user.name} left`);
      break;
  }
});

await client.createSession(current.access_token);
scheduleRefresh();

// The conversation by name; the first user to ask creates it.
async function findOrCreate(name) {
  try {
    return (await client.getConversation(name)).id;
  } catch (err) {
    if (err.code !== 'conversation:error:not-found') throw err;
  }
  try {
    return await client.createConversation({ name, displayName: name });
  } catch (err) {
    if (err.code !== 'conversation:error:duplicate-name') throw err;
    return (await client.getConversation(name)).id;
  }
}
conversation = await findOrCreate(conversationName);
try {
  await client.joinConversation(conversation);
} catch (err) {
  if (err.code !== 'conversation:error:member-already-joined') throw err;
}
console.log(`* ${username} is in ${conversationName} (${conversation}); type a line to send it, Ctrl-D to leave`);

const history = await client.getConversationEvents(conversation, { order: 'asc', pageSize: 100 });
for (const ev of history.events) {
  if (ev.kind === 'message:text') console.log(`${ev.from?.user?.name || 'someone'}: ${ev.body.text} (earlier)`);
}

const lines = createInterface({ input: process.stdin });
let sending = Promise.resolve();
lines.on('line', (line) => {
  if (line.trim() === '') return;
  sending = sending.then(() => client.sendMessageTextEvent(conversation, line)).catch((err) => {
    console.error(`* not sent: ${err.code || err.message}`);
  });
});
lines.on('close', async () => {
  await sending;
  // Stay a moment for the last answers (LINGER_MS), then end the session.
  await new Promise((r) => setTimeout(r, Number(process.env.LINGER_MS || 500)));
  clearTimeout(refreshTimer);
  await client.deleteSession().catch(() => {});
  process.exit(0);
});

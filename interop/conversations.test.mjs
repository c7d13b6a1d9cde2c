// @vonage/conversations (Vonage's server SDK for the Conversation API v1)
// against the emulator. Run by emulator/interop_test.go, which starts the
// emulator, creates the application and two users, and passes them in:
// EMULATOR_URL, VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY, USER_ID,
// USER_NAME, OTHER_USER_ID, OTHER_USER_NAME.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Auth } from '@vonage/auth';
import { Conversations } from '@vonage/conversations';

const env = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} is set`);
  return v;
};
const apiHost = env('EMULATOR_URL');
const applicationId = env('VONAGE_APPLICATION_ID');
const privateKey = env('VONAGE_PRIVATE_KEY');
const user = { id: env('USER_ID'), name: env('USER_NAME') };
const other = { id: env('OTHER_USER_ID'), name: env('OTHER_USER_NAME') };

// An admin client: the package's default JWT has no sub and no acl.
const admin = new Conversations(new Auth({ applicationId, privateKey }), { apiHost });

// A client whose JWTs speak for a user, as a Client SDK token does.
const asUser = (name, acl) =>
  new Conversations(
    new Auth({ applicationId, privateKey, jwtOptions: { sub: name, acl } }),
    { apiHost },
  );
const clientSDKACL = {
  paths: Object.fromEntries(
    ['users', 'conversations', 'sessions', 'devices', 'image', 'media', 'applications', 'push', 'knocking', 'legs', 'rtc']
      .map((p) => [`/*/${p}/**`, {}]),
  ),
};

// The problem body of a refused call (the package leaves it unread).
const problem = async (promise) => {
  try {
    await promise;
  } catch (err) {
    return { status: err.response.status, ...(await err.response.json()) };
  }
  assert.fail('the call was not refused');
};

const collect = async (gen) => {
  const out = [];
  for await (const item of gen) out.push(item);
  return out;
};

const run = Date.now().toString(36);

test('conversations: create, get, update, list every page, delete', async () => {
  const created = await admin.createConversation({
    name: `support-${run}`,
    displayName: 'Support',
    imageUrl: 'https://example.com/support.png',
    properties: { ttl: 60, customData: { team_name: 'blue', camelKey: 1 } },
  });
  assert.match(created.id, /^CON-[0-9a-f-]{36}$/);
  assert.equal(created.displayName, 'Support');
  assert.equal(created.state, 'ACTIVE');
  assert.deepEqual(created.properties.customData, { team_name: 'blue', camelKey: 1 });

  const got = await admin.getConversation(created.id);
  assert.equal(got.name, `support-${run}`);
  assert.equal(got.imageUrl, 'https://example.com/support.png');

  const updated = await admin.updateConversation({ id: created.id, displayName: 'Help desk' });
  assert.equal(updated.displayName, 'Help desk');

  const dup = await problem(admin.createConversation({ name: `support-${run}` }));
  assert.equal(dup.status, 409);
  assert.equal(dup.code, 'conversation:error:duplicate-name');

  const names = [];
  for (let i = 0; i < 5; i++) {
    names.push((await admin.createConversation({ name: `paged-${run}-${i}` })).name);
  }
  // listAllConversations follows _links.next.href page by page.
  const listed = await collect(admin.listAllConversations({ pageSize: 2 }));
  const mine = listed.map((c) => c.name).filter((n) => n.startsWith(`paged-${run}-`));
  assert.deepEqual(mine, names);
  const desc = await admin.getConversationPage({ pageSize: 2, order: 'desc' });
  assert.equal(desc.pageSize, 2);
  assert.equal(desc.conversations.length, 2);
  assert.equal(desc.conversations[0].name, names[4]);

  await admin.deleteConversation(created.id);
  const gone = await problem(admin.getConversation(created.id));
  assert.equal(gone.status, 404);
  assert.equal(gone.code, 'conversation:error:not-found');
});

test('members: invite, join, getMe with a user token, list, leave', async () => {
  const conv = await admin.createConversation({ name: `members-${run}` });
  const invited = await admin.createMember(conv.id, { state: 'INVITED', user: { id: user.id } });
  assert.equal(invited.state, 'INVITED');
  assert.equal(invited.user.name, user.name);
  assert.ok(invited.timestamp.invited);
  assert.equal(invited.timestamp.joined, undefined);

  const userClient = asUser(user.name, clientSDKACL);
  const joined = await userClient.createMember(conv.id, { state: 'JOINED', user: { name: user.name }, channel: { type: 'app' } });
  assert.equal(joined.id, invited.id, 'joining moves the invited member');
  assert.equal(joined.state, 'JOINED');

  const me = await userClient.getMe(conv.id);
  assert.equal(me.id, invited.id);
  assert.equal(me.user.id, user.id);
  const adminMe = await problem(admin.getMe(conv.id));
  assert.equal(adminMe.status, 404, 'an admin token has no member');

  const again = await problem(userClient.createMember(conv.id, { state: 'JOINED', user: { name: user.name } }));
  assert.equal(again.status, 400);
  assert.equal(again.code, 'conversation:error:member-already-joined');

  const asOther = await problem(userClient.createMember(conv.id, { state: 'JOINED', user: { name: other.name } }));
  assert.equal(asOther.status, 403);
  await admin.createMember(conv.id, { state: 'JOINED', user: { name: other.name } });

  const members = await collect(admin.listAllMembers(conv.id, { pageSize: 1 }));
  assert.deepEqual(members.map((m) => m.user.name), [user.name, other.name]);
  assert.equal((await admin.getMember(conv.id, invited.id)).state, 'JOINED');

  const left = await userClient.updateMember(conv.id, invited.id, { state: 'left' });
  assert.equal(left.state, 'LEFT');
  assert.ok(left.timestamp.left);

  const convs = await collect(admin.listAllUserConversations(other.id));
  assert.ok(convs.some((c) => c.id === conv.id));
});

test('events: send, number, page, get, delete, with the sender embedded', async () => {
  const conv = await admin.createConversation({ name: `events-${run}` });
  const userClient = asUser(user.name, clientSDKACL);
  const member = await userClient.createMember(conv.id, { state: 'JOINED', user: { name: user.name } });

  const sent = [];
  for (let i = 0; i < 4; i++) {
    sent.push(await userClient.createEvent(conv.id, {
      type: 'message', from: member.id, body: { messageType: 'text', text: `hello ${i}` },
    }));
  }
  assert.deepEqual(sent.map((e) => e.id), [2, 3, 4, 5], 'ids follow the member:joined event');
  assert.equal(sent[0].body.messageType, 'text');
  assert.equal(sent[0].fromMember.id, member.id);
  assert.equal(sent[0].fromUser.name, user.name);

  const all = await collect(admin.listAllEvents(conv.id, { pageSize: 2 }));
  assert.deepEqual(all.map((e) => e.type), ['member:joined', 'message', 'message', 'message', 'message']);
  assert.ok(all[0].body.channel, 'member events carry a channel');
  const page = await admin.getEventPage(conv.id, { pageSize: 10, order: 'desc', eventType: 'message', startId: 3 });
  assert.deepEqual(page.events.map((e) => e.id), [5, 4, 3]);

  const one = await admin.getEvent(conv.id, 3);
  assert.equal(one.body.text, 'hello 1');
  assert.equal(one.from, member.id);

  const readOnly = asUser(user.name, { paths: { '/*/conversations/**': { methods: ['GET'] } } });
  const refused = await problem(readOnly.createEvent(conv.id, {
    type: 'message', from: member.id, body: { messageType: 'text', text: 'no' },
  }));
  assert.equal(refused.status, 403);
  assert.equal(refused.code, 'system:error:permission');
  assert.equal((await readOnly.getEvent(conv.id, 2)).id, 2);

  const bad = await problem(userClient.createEvent(conv.id, { type: 'message', from: member.id, body: {} }));
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.invalid_parameters.map((p) => p.name), ['body.message_type']);

  await userClient.deleteEvent(conv.id, 2);
  const kept = await collect(admin.listAllEvents(conv.id, { excludeDeletedEvents: true }));
  assert.deepEqual(kept.map((e) => e.id), [1, 3, 4, 5, 6]);
  assert.equal(kept[4].type, 'event:delete');
  assert.equal(kept[4].body.eventId, 2);
  assert.equal((await admin.getConversation(conv.id)).sequenceNumber, 6);
});

test('sessions: a user with no Client SDK session lists none', async () => {
  const page = await admin.getUserSessionsPage(user.id, { pageSize: 10 });
  assert.deepEqual(page.sessions, []);
});

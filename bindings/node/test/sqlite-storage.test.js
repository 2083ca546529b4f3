// The example's SQLite storage (node:sqlite, Node 22.5 and later): the PHP package's provider tests, which
// look at the application's tables themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEMBER_PATH } from 'scimkit';
import { SqliteStorage } from 'scimkit/example';
import { BASE, JSON_HEADERS, Recording, filter, provider } from './helpers.js';

let DatabaseSync = null;
try {
  ({ DatabaseSync } = await import('node:sqlite'));
} catch {
  // Skipped below: this Node has no node:sqlite.
}
const skip = DatabaseSync === null && 'node:sqlite is not in this Node';

function setup() {
  const db = new DatabaseSync(':memory:');
  const storage = new SqliteStorage(db);
  return { db, storage, p: provider(storage) };
}

test('users are rows in the application\'s columns', { skip }, () => {
  const { db, p } = setup();
  const body = { userName: 'bjensen', name: { givenName: 'Barbara', familyName: 'Jensen' }, emails: [{ type: 'work', value: 'b@example.com' }], active: false };
  const r = p.handle('POST', '/Users', '', JSON_HEADERS, JSON.stringify(body));
  assert.equal(r.status, 201, r.body);
  const id = r.json().id;
  const row = db.prepare('SELECT username, username_canonical, firstname, email, active FROM user WHERE id = ?').get(id);
  assert.deepEqual({ ...row }, { username: 'bjensen', username_canonical: 'bjensen', firstname: 'Barbara', email: 'b@example.com', active: 0 });
  const got = p.handle('GET', `/Users/${id}`);
  assert.equal(got.header('ETag'), 'W/"1"');
  assert.equal(got.json().active, false);
  assert.equal(p.handle('GET', '/Users', filter('userName eq "BJENSEN"')).json().totalResults, 1);
  assert.equal(p.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"BJensen"}').status, 409);
  assert.equal(p.handle('DELETE', `/Users/${id}`).status, 204);
  assert.equal(p.handle('GET', `/Users/${id}`).status, 404);
});

test('attributes without a column are kept in the rest column', { skip }, () => {
  const { db, p } = setup();
  const ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
  const r = p.handle('POST', '/Users', '', JSON_HEADERS, JSON.stringify({ userName: 'a', title: 'Boss', [ent]: { department: 'R&D' } }));
  assert.equal(r.status, 201, r.body);
  const id = r.json().id;
  const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: `${ent}:manager`, value: { value: 'm1' } }] };
  assert.equal(p.handle('PATCH', `/Users/${id}`, '', JSON_HEADERS, JSON.stringify(patch)).status, 200);
  const extra = JSON.parse(db.prepare('SELECT scim_extra FROM user WHERE id = ?').get(id).scim_extra);
  assert.deepEqual(extra[ent], { department: 'R&D', manager: { value: 'm1' } });
  const got = p.handle('GET', `/Users/${id}`).json();
  assert.deepEqual([got.title, got[ent].department, got[ent].manager.value], ['Boss', 'R&D', 'm1']);
});

test('group members live in the relation table', { skip }, () => {
  const { db, p } = setup();
  const a = p.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"a"}').json().id;
  const b = p.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"b"}').json().id;
  const g = p.handle('POST', '/Groups', '', JSON_HEADERS, JSON.stringify({ displayName: 'Staff', members: [{ value: a }, { value: b }] }));
  assert.equal(g.status, 201, g.body);
  const gid = g.json().id;
  assert.equal(db.prepare('SELECT COUNT(*) AS n FROM usergroup_rel_user WHERE usergroup_id = ?').get(gid).n, 2);
  assert.deepEqual(p.handle('GET', `/Groups/${gid}`).json().members.map((m) => m.display), ['a', 'b']);
  const put = p.handle('PUT', `/Groups/${gid}`, '', JSON_HEADERS, JSON.stringify({ displayName: 'Staff', members: [{ value: b, display: 'Bee' }] }));
  assert.equal(put.status, 200, put.body);
  assert.deepEqual(p.handle('GET', `/Groups/${gid}`).json().members, [{ $ref: `${BASE}/Users/${b}`, display: 'Bee', type: 'User', value: b }]);
  p.handle('DELETE', `/Users/${b}`);
  const after = p.handle('GET', `/Groups/${gid}`);
  assert.deepEqual(after.json().members ?? [], []);
  assert.equal(after.header('ETag'), 'W/"3"', 'a removed member changes the group');
});

test('a user\'s groups are one membership query the storage answers exactly, through the member index', { skip }, () => {
  const db = new DatabaseSync(':memory:');
  const storage = new Recording(new SqliteStorage(db));
  const p = provider(storage);
  const id = p.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"bjensen"}').json().id;
  p.handle('POST', '/Groups', '', JSON_HEADERS, JSON.stringify({ displayName: 'Admins', members: [{ value: id }] }));
  p.handle('POST', '/Groups', '', JSON_HEADERS, '{"displayName":"Others"}');
  storage.ops = [];
  const user = p.handle('GET', `/Users/${id}`).json();
  assert.deepEqual(user.groups.map((g) => g.display), ['Admins']);
  assert.equal(storage.all('search').length, 1, 'one search for the groups');
  const q = storage.last('search');
  assert.deepEqual([q.resourceType, q.filter.path, q.filter.value, q.withoutMembers], ['Group', MEMBER_PATH, id, true]);
  const page = storage.last('page');
  assert.deepEqual([page.applied, page.total], ['everything', 1]);
  const plan = db.prepare('EXPLAIN QUERY PLAN SELECT * FROM usergroup WHERE id IN (SELECT usergroup_id FROM usergroup_rel_user WHERE user_id = ?)')
    .all(id).map((r) => r.detail).join('\n');
  assert.match(plan, /USING (COVERING )?INDEX usergroup_rel_user_user/, plan);
  // A client's filter on members is answered the same way.
  const list = p.handle('GET', '/Groups', filter(`members.value eq "${id}"`)).json();
  assert.deepEqual([list.totalResults, list.Resources[0].displayName], [1, 'Admins']);
  assert.equal(storage.last('page').applied, 'everything');
});

test('sorting and paging are the storage\'s when it can, the engine\'s when it cannot', { skip }, () => {
  const { p } = setup();
  for (const name of ['carol', 'alice', 'Bob', 'dave']) {
    assert.equal(p.handle('POST', '/Users', '', JSON_HEADERS, JSON.stringify({ userName: name, title: String(name.length) })).status, 201);
  }
  const page = p.handle('GET', '/Users', 'sortBy=userName&sortOrder=descending&startIndex=2&count=2&attributes=userName').json();
  assert.deepEqual([page.totalResults, page.Resources.map((u) => u.userName)], [4, ['carol', 'Bob']]);
  // `title` has no column: the engine filters and sorts what the storage hands over.
  const titled = p.handle('GET', '/Users', `${filter('title eq "5"')}&sortBy=title&attributes=userName`).json();
  assert.deepEqual(titled.Resources.map((u) => u.userName), ['carol', 'alice']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Provider, ScimError, StorageError } from 'scimkit';
import { MemoryStorage, config } from 'scimkit/example';
import { BASE, JSON_HEADERS, Recording, filter, provider, quiet, user } from './helpers.js';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

test('users are rows in the application\'s columns', () => {
  const storage = new Recording(new MemoryStorage());
  const p = provider(storage);
  const body = { userName: 'bjensen', name: { givenName: 'Barbara', familyName: 'Jensen' }, emails: [{ type: 'work', value: 'b@example.com' }], active: false };
  const r = p.handle('POST', '/Users', '', JSON_HEADERS, JSON.stringify(body));
  assert.equal(r.status, 201, r.body);
  const id = r.json().id;
  const row = storage.last('create');
  assert.deepEqual({ username: row.username, firstname: row.firstname, email: row.email, active: row.active },
    { username: 'bjensen', firstname: 'Barbara', email: 'b@example.com', active: 0 });
  assert.ok(r.header('location').endsWith(`/Users/${id}`));
  const got = p.handle('GET', `/Users/${id}`);
  assert.equal(got.header('ETag'), 'W/"1"');
  assert.equal(got.json().active, false);
  const list = p.handle('GET', '/Users', filter('userName eq "BJENSEN"')).json();
  assert.equal(list.totalResults, 1);
  assert.equal(p.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"BJensen"}').status, 409);
  assert.equal(p.handle('DELETE', `/Users/${id}`).status, 204);
  const gone = p.handle('GET', `/Users/${id}`);
  assert.equal(gone.status, 404);
  assert.ok(gone.json().schemas.includes(ERROR_SCHEMA));
});

test('create, read, replace, patch and delete through a JavaScript storage', () => {
  const storage = new Recording(new MemoryStorage());
  const p = provider(storage);
  const created = p.handle('POST', '/Users', '', JSON_HEADERS, user('bjensen'));
  assert.equal(created.status, 201, created.body);
  assert.match(String(storage.last('create').scim_extra), /Tour guide/, 'the rest column');
  const id = created.json().id;
  const got = p.handle('GET', `/Users/${id}`);
  assert.equal(got.status, 200);
  assert.equal(got.json().title, 'Tour guide');
  const put = p.handle('PUT', `/Users/${id}`, '', JSON_HEADERS, user('bjensen2'));
  assert.equal(put.status, 200, put.body);
  assert.equal(put.json().userName, 'bjensen2');
  const patch = p.handle('PATCH', `/Users/${id}`, '', JSON_HEADERS, JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }],
  }));
  assert.equal(patch.status, 200, patch.body);
  assert.equal(patch.json().active, false);
  assert.notEqual(put.header('ETag'), patch.header('ETag'), 'a write changes the version');
  const taken = p.handle('POST', '/Users', '', JSON_HEADERS, user('BJensen2'));
  assert.equal(taken.status, 409);
  assert.equal(taken.json().scimType, 'uniqueness');
});

test('attributes without a column are kept in the rest column', () => {
  const storage = new Recording(new MemoryStorage());
  const p = provider(storage);
  const ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
  const r = p.handle('POST', '/Users', '', JSON_HEADERS, JSON.stringify({ userName: 'a', title: 'Boss', [ent]: { department: 'R&D' } }));
  assert.equal(r.status, 201, r.body);
  const id = r.json().id;
  const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: `${ent}:manager`, value: { value: 'm1' } }] };
  assert.equal(p.handle('PATCH', `/Users/${id}`, '', JSON_HEADERS, JSON.stringify(patch)).status, 200);
  const extra = JSON.parse(storage.last('update').data.scim_extra);
  assert.deepEqual(extra[ent], { department: 'R&D', manager: { value: 'm1' } });
  const got = p.handle('GET', `/Users/${id}`).json();
  assert.deepEqual([got.title, got[ent].department, got[ent].manager.value], ['Boss', 'R&D', 'm1']);
});

test('quotes, control characters and text beyond the BMP round-trip through the storage', () => {
  const storage = new Recording(new MemoryStorage());
  const p = provider(storage);
  const given = 'Zoë "Q" \n\t \u0001 😀 中';
  const created = p.handle('POST', '/Users', '', JSON_HEADERS, user('zoe', { name: { givenName: given } }));
  assert.equal(created.status, 201, created.body);
  assert.equal(storage.last('create').firstname, given);
  assert.equal(p.handle('GET', `/Users/${created.json().id}`).json().name.givenName, given);
});

test('group members live in the membership relation', () => {
  const p = provider(new MemoryStorage());
  const a = p.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"a"}').json().id;
  const b = p.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"b"}').json().id;
  const g = p.handle('POST', '/Groups', '', JSON_HEADERS, JSON.stringify({ displayName: 'Staff', members: [{ value: a }, { value: b }] }));
  assert.equal(g.status, 201, g.body);
  const gid = g.json().id;
  const read = p.handle('GET', `/Groups/${gid}`).json();
  assert.deepEqual(read.members.map((m) => m.display), ['a', 'b'], 'without a display sent, the user name');
  const put = p.handle('PUT', `/Groups/${gid}`, '', JSON_HEADERS, JSON.stringify({ displayName: 'Staff', members: [{ value: b, display: 'Bee' }] }));
  assert.equal(put.status, 200, put.body);
  assert.deepEqual(p.handle('GET', `/Groups/${gid}`).json().members, [{ $ref: `${BASE}/Users/${b}`, display: 'Bee', type: 'User', value: b }]);
  p.handle('DELETE', `/Users/${b}`);
  const after = p.handle('GET', `/Groups/${gid}`);
  assert.deepEqual(after.json().members ?? [], []);
  assert.equal(after.header('ETag'), 'W/"3"', 'a removed member changes the group');
});

test('a filter reaches the storage as a tree in its column names', () => {
  const storage = new Recording(new MemoryStorage());
  const p = provider(storage);
  for (const name of ['alice', 'bob', 'carol']) {
    assert.equal(p.handle('POST', '/Users', '', JSON_HEADERS, user(name)).status, 201);
  }
  const list = p.handle('GET', '/Users', filter('userName eq "Bob" and active eq true'));
  assert.equal(list.status, 200);
  assert.equal(list.json().totalResults, 1);
  assert.equal(list.json().Resources[0].userName, 'bob');
  const q = storage.last('search', (a) => a.resourceType === 'User');
  assert.equal(q.filter.op, 'and');
  assert.deepEqual(q.filter.args, [
    { op: 'eq', path: 'username', value: 'Bob', type: 'text', caseExact: false },
    // A `boolean01` column: the engine compares the stored integer.
    { op: 'eq', path: 'active', value: 1, type: 'integer', caseExact: false },
  ]);
  assert.equal(p.handle('GET', '/Users', filter('userName sw "z"')).json().totalResults, 0);
});

test('the example\'s filter push-down keeps exactly the matches the engine finds alone', () => {
  // The same rows twice: narrowed by RowFilter, and handed over unfiltered for the engine to filter.
  const unfiltered = new MemoryStorage();
  const plainStorage = {
    get: (...a) => unfiltered.get(...a),
    create: (...a) => unfiltered.create(...a),
    update: (c) => unfiltered.update(c),
    delete: (...a) => unfiltered.delete(...a),
    members: (...a) => unfiltered.members(...a),
    search: (q) => ({ items: unfiltered.search({ ...q, filter: null }).items, applied: 'nothing' }),
  };
  const narrowed = provider(new MemoryStorage());
  const plain = provider(plainStorage);
  const names = ['alice', 'Bob', 'carol', 'dave', 'Ève', 'frank'];
  names.forEach((n, i) => {
    const body = i % 2 === 0 ? user(n) : user(n, { active: false, name: undefined });
    for (const p of [narrowed, plain]) {
      assert.equal(p.handle('POST', '/Users', '', JSON_HEADERS, body).status, 201, body);
    }
  });
  const totals = new Set();
  for (const f of ['userName eq "bob"', 'userName ne "bob"', 'userName sw "C"', 'userName co "a"', 'userName ew "e"',
    'userName eq "ève"', 'active eq true', 'active eq false', 'not (active eq true)', 'name.givenName pr',
    'not (name.givenName pr)', 'title eq "Tour guide"', 'name.givenName eq "barbara" or userName eq "bob"',
    'userName gt "c"', 'not (userName eq "alice" and active eq true)', 'emails[value co "x"] or active eq false',
    'name.givenName eq null', 'not (name.givenName eq null)', 'userName ne "Bob" and active eq false']) {
    const query = `${filter(f)}&attributes=userName`;
    const a = narrowed.handle('GET', '/Users', query);
    const b = plain.handle('GET', '/Users', query);
    assert.equal(a.status, 200, `${f}: ${a.body}`);
    assert.equal(a.body, b.body, f);
    totals.add(a.json().totalResults);
  }
  assert.ok(totals.size > 3, `the filters select different rows: ${[...totals]}`);
});

test('a user\'s groups are one membership search the example answers exactly', () => {
  const storage = new Recording(new MemoryStorage());
  const p = provider(storage);
  const id = p.handle('POST', '/Users', '', JSON_HEADERS, user('gina')).json().id;
  const other = p.handle('POST', '/Users', '', JSON_HEADERS, user('hal')).json().id;
  const group = (name, member) => JSON.stringify({ displayName: name, members: [{ value: member }] });
  assert.equal(p.handle('POST', '/Groups', '', JSON_HEADERS, group('Admins', id)).status, 201);
  assert.equal(p.handle('POST', '/Groups', '', JSON_HEADERS, group('Others', other)).status, 201);
  storage.ops = [];
  const got = p.handle('GET', `/Users/${id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.json().groups.map((g) => g.display), ['Admins']);
  assert.equal(storage.all('search').length, 1, 'one search for the groups');
  const q = storage.last('search');
  assert.deepEqual([q.resourceType, q.filter.path, q.filter.value, q.withoutMembers], ['Group', 'members.value', id, true]);
  const page = storage.last('page');
  assert.deepEqual([page.applied, page.items.length], ['filter-only', 1]);
  // An `or` of members, as for a page of users, and a client's filter on a group's members.
  const both = p.handle('GET', '/Groups', filter(`members.value eq "${id}" or members.value eq "${other}"`));
  assert.equal(both.json().totalResults, 2);
  assert.equal(storage.last('page').applied, 'filter-only');
});

test('storage exceptions become SCIM 500 or 503, and the next request is served', () => {
  const logged = [];
  const storage = new Recording(new MemoryStorage());
  const p = provider(storage, { log: (line) => logged.push(line) });
  const id = p.handle('POST', '/Users', '', JSON_HEADERS, user('dave')).json().id;
  storage.failWith = new Error('the disk is on fire');
  const failed = p.handle('GET', `/Users/${id}`);
  assert.equal(failed.status, 500);
  assert.ok(failed.json().schemas.includes(ERROR_SCHEMA));
  assert.ok(!failed.body.includes('on fire'), 'an internal failure is not shown to clients');
  assert.ok(logged.some((l) => l.includes('on fire')), 'it is logged');
  storage.failWith = StorageError.unavailable('the database restarts');
  const unavailable = p.handle('GET', '/Users');
  assert.equal(unavailable.status, 503);
  assert.equal(unavailable.json().status, '503');
  storage.failWith = new RangeError('Maximum call stack size exceeded');
  assert.equal(p.handle('POST', '/Users', '', JSON_HEADERS, user('erin')).status, 500, 'a create that throws');
  storage.failWith = 'not even an Error';
  assert.equal(p.handle('DELETE', `/Users/${id}`).status, 500);
  storage.failWith = null;
  const again = p.handle('GET', `/Users/${id}`);
  assert.equal(again.status, 200);
  assert.equal(again.json().userName, 'dave');
});

test('the expected storage failures are their SCIM errors', () => {
  const failing = {
    get: (type, id) => {
      throw id === 'gone' ? StorageError.notFound() : new Error('database exploded');
    },
    create: () => {
      throw StorageError.unavailable('locked');
    },
    update: () => {
      throw new TypeError('bad');
    },
    delete: () => {
      throw StorageError.notFound();
    },
    search: () => ({ items: [], total: 0, applied: 'everything' }),
    members: () => [],
  };
  const p = provider(failing);
  const r = p.handle('GET', '/Users/1');
  assert.equal(r.status, 500);
  assert.ok(!r.body.includes('exploded'), 'internals are not shown to clients');
  assert.equal(p.handle('GET', '/Users/gone').status, 404);
  assert.equal(p.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"x"}').status, 503);
  assert.equal(p.handle('DELETE', '/Users/gone').status, 404);
  assert.equal(p.handle('GET', '/Users').json().totalResults, 0);
  assert.equal(p.handle('GET', '/Me', '', [], null, 'bjensen').status, 501, '/Me without resolvePrincipal');
});

test('a storage answering nonsense is a SCIM 500', () => {
  const storage = new MemoryStorage();
  const p = provider({
    get: () => ({ id: null, version: null, data: {} }),
    create: () => 'not a resource',
    update: (c) => storage.update(c),
    delete: (...a) => storage.delete(...a),
    search: () => ({ items: [], applied: 'everything' }),
    members: () => 42,
  });
  for (const [method, path, body] of [['GET', '/Users/1'], ['POST', '/Users', '{"userName":"x"}'], ['GET', '/Users']]) {
    const r = p.handle(method, path, '', JSON_HEADERS, body ?? null);
    assert.equal(r.status, 500, `${method} ${path}: ${r.body}`);
    assert.ok(r.json().schemas.includes(ERROR_SCHEMA));
  }
});

test('/Me is the resource the storage resolves the principal to', () => {
  const storage = new MemoryStorage();
  const p = provider(Object.assign(Object.create(storage), {
    get: (...a) => storage.get(...a),
    search: (q) => storage.search(q),
    create: (...a) => storage.create(...a),
    resolvePrincipal: (principal) => (principal === 'bjensen' ? ['User', '1'] : null),
  }));
  assert.equal(p.handle('POST', '/Users', '', JSON_HEADERS, user('bjensen')).status, 201);
  const me = p.handle('GET', '/Me', '', [], null, 'bjensen');
  assert.equal(me.status, 200, me.body);
  assert.equal(me.json().userName, 'bjensen');
});

test('each provider answers from its own storage', () => {
  const [a, b] = [provider(new MemoryStorage()), provider(new MemoryStorage())];
  const id = a.handle('POST', '/Users', '', JSON_HEADERS, '{"userName":"only-in-a"}').json().id;
  assert.equal(b.handle('GET', `/Users/${id}`).status, 404);
  assert.equal(a.handle('GET', `/Users/${id}`).json().userName, 'only-in-a');
});

test('a storage may call a provider while serving one', () => {
  const inner = provider(new MemoryStorage());
  const storage = new MemoryStorage();
  const outer = provider(Object.assign(Object.create(storage), {
    get: (...a) => {
      // An application that looks something up through SCIM while answering.
      assert.equal(inner.handle('GET', '/ServiceProviderConfig').status, 200);
      return storage.get(...a);
    },
    search: (q) => storage.search(q),
    create: (...a) => storage.create(...a),
  }));
  const id = outer.handle('POST', '/Users', '', JSON_HEADERS, user('nested')).json().id;
  assert.equal(outer.handle('GET', `/Users/${id}`).status, 200);
});

test('headers as an object, a list of pairs or lists of values; bodies as text or bytes', () => {
  const p = provider(new MemoryStorage());
  const bytes = new TextEncoder().encode(user('bytes'));
  assert.equal(p.handle('POST', '/Users', '', { 'content-type': ['application/scim+json'] }, bytes).status, 201);
  assert.equal(p.handle('POST', '/Users', '', [['Content-Type', 'application/scim+json']], Buffer.from(user('buffer'))).status, 201);
  const r = p.handle('get', '/Users', 'count=1&attributes=userName');
  assert.equal(r.status, 200);
  assert.equal(r.json().totalResults, 2);
  assert.equal(r.json().Resources.length, 1);
});

test('a refused configuration throws a ScimError naming the key', () => {
  assert.throws(() => new Provider({ baseUrl: 'x', bogus: 1 }, new MemoryStorage()), (e) => e instanceof ScimError && /bogus/.test(e.message));
  assert.throws(() => new Provider('{"baseUrl": ', new MemoryStorage()), (e) => e instanceof ScimError && /not JSON/.test(e.message));
  assert.throws(() => new Provider({ ...config(BASE), mapping: { User: { columns: { 'nope[': 'x' } } } }, new MemoryStorage()), ScimError);
  // The instance that refused it serves the next provider.
  assert.equal(provider(new MemoryStorage(), quiet).handle('GET', '/Schemas').status, 200);
});

test('a provider per request: many providers in one process share the engine', () => {
  const storage = new MemoryStorage();
  const id = provider(storage).handle('POST', '/Users', '', JSON_HEADERS, user('shared')).json().id;
  for (let i = 0; i < 300; i++) {
    const r = provider(storage).handle('GET', `/Users/${id}`);
    assert.equal(r.status, 200, r.body);
  }
});

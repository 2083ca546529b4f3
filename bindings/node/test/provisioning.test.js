import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { HttpTransport, Mapper, Provisioner, ScimError, TransportError } from 'scimkit';

const MAPPING = {
  managedGroupPrefix: 'dir-',
  attributes: [
    { target: 'userName', from: 'uid', transform: ['trim', 'lower'] },
    { target: 'externalId', template: 'ldap:${uid}' },
    { target: 'name.givenName', from: 'givenName' },
    { target: 'name.familyName', from: 'sn' },
    { target: 'displayName', template: '${givenName} ${sn}' },
    { target: 'emails[type eq "work"].value', from: 'mail', transform: ['trim', 'lower'] },
    { target: 'emails[type eq "work"].primary', value: true },
    { target: 'title', from: 'title' },
  ],
  groups: [{ from: 'departmentNumber', name: 'dir-dept-${value}', transform: 'trim' }],
};

const jane = { UID: ['JDoe'], givenName: ['Jane'], sn: ['Doe'], mail: ['Jane.Doe@Example.org'], departmentNumber: ['physics'] };
const config = (enabled) => ({ services: { app: { enabled, mapping: MAPPING } } });

test('the mapper maps and reverses', () => {
  const m = new Mapper(MAPPING);
  const [u, g, ...rest] = m.toResources(jane);
  assert.equal(rest.length, 0, 'a User and one group');
  assert.equal(u.userName, 'jdoe');
  assert.equal(u.emails[0].value, 'jane.doe@example.org');
  assert.equal(g.displayName, 'dir-dept-physics');
  const back = m.toAttributes(u);
  assert.deepEqual(back.uid, ['jdoe']);
  assert.deepEqual(back.mail, ['jane.doe@example.org']);
  assert.deepEqual(m.toAttributes(JSON.stringify(u)), back, 'JSON text or object');
});

test('a refused mapping is a ScimError naming the rule; bad JSON throws, never crashes', () => {
  assert.throws(() => new Mapper({ attributes: [{ target: 'a..b', from: 'x' }] }), (e) => e instanceof ScimError && e.message.includes('attributes[0]'));
  assert.throws(() => new Provisioner({ services: { app: { mapping: MAPPING, match: 'nope' } } }), (e) => e instanceof ScimError && e.message.includes('nope'));
  const m = new Mapper(MAPPING);
  assert.throws(() => m.toAttributes('[1, 2'), (e) => e instanceof ScimError && /JSON/.test(e.message));
  assert.equal(m.toResources(jane)[0].userName, 'jdoe', 'the mapper still works');
});

test('a throwing transport fails the principal with its message', () => {
  const p = new Provisioner(config(true));
  const r = p.provision('app', jane, { send: () => { throw new Error('no route to target'); } });
  assert.equal(r.outcome, 'failed');
  assert.match(r.error, /no route to target/);
  const timedOut = p.provision('app', jane, { send: () => { throw new TransportError('timed-out'); } });
  assert.equal(timedOut.outcome, 'failed');
  assert.deepEqual(timedOut.steps.map((s) => s.status), [null]);
});

test('a disabled service is skipped without a request', () => {
  const p = new Provisioner(config(false));
  const r = p.provision('app', jane, { send: (req) => assert.fail(`sent ${req.method} ${req.path}`) });
  assert.equal(r.outcome, 'skipped');
});

/** The example server in a process of its own: HttpTransport blocks this thread while it waits. */
let server;
let base;
const TOKEN = 'provisioning-token';

async function freePort() {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

before(async () => {
  const port = await freePort();
  server = spawn(process.execPath, [new URL('../example/bin.js', import.meta.resolve('scimkit')).pathname, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, SCIM_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(server.stdout, 'data');
  assert.match(String(line), /SCIM at http:\/\/127\.0\.0\.1:\d+\/scim\/v2/);
  base = `http://127.0.0.1:${port}`;
});

after(() => {
  server?.kill();
});

test('example server: bearer token, SCIM below its base only, CRUD over HTTP', async () => {
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const denied = await fetch(`${base}/scim/v2/Users`, { headers: { Authorization: 'Bearer wrong' } });
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await fetch(`${base}/scim/v2/Users`)).status, 401);
  assert.equal((await fetch(`${base}/other`, { headers: auth })).status, 404);
  const created = await fetch(`${base}/scim/v2/Users`, {
    method: 'POST', headers: { ...auth, 'Content-Type': 'application/scim+json' }, body: JSON.stringify({ userName: 'http-user' }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const location = created.headers.get('location');
  assert.ok(location.startsWith(`${base}/scim/v2/Users/`), location);
  const got = await fetch(location, { headers: auth });
  assert.equal((await got.json()).userName, 'http-user');
  const gone = await fetch(location, { method: 'DELETE', headers: auth });
  assert.equal(gone.status, 204);
  assert.equal(await gone.text(), '');
  const spc = await fetch(`${base}/scim/v2/ServiceProviderConfig`, { headers: auth });
  assert.ok((await spc.json()).patch.supported);
});

test('example server: malformed requests are SCIM errors', async () => {
  const badPath = await fetch(`${base}/scim/v2/Users/%E0%A4%A`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(badPath.status, 400);
  assert.equal((await badPath.json()).detail, 'the path is not valid percent-encoding');
  // A method Node's HTTP parser refuses, on a raw connection.
  const socket = connect(new URL(base).port, '127.0.0.1');
  socket.end(`BREW /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
  const chunks = [];
  for await (const c of socket) {
    chunks.push(c);
  }
  const answer = Buffer.concat(chunks).toString();
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /urn:ietf:params:scim:api:messages:2\.0:Error/);
});

test('provisioning over HTTP: created, then unchanged with one search, then one write for one change', () => {
  const http = new HttpTransport(`${base}/scim/v2`, TOKEN, { timeoutMs: 10_000 });
  const methods = [];
  const counting = { send: (req) => (methods.push(req.method), http.send(req)) };
  const p = new Provisioner(config(true));
  try {
    const first = p.provision('app', jane, counting);
    assert.equal(first.outcome, 'created', JSON.stringify(first));
    methods.length = 0;
    const second = p.provision('app', jane, counting);
    assert.equal(second.outcome, 'unchanged', JSON.stringify(second));
    assert.deepEqual(methods, ['GET'], 'one search, no write');
    methods.length = 0;
    const third = p.provision('app', { ...jane, title: ['Changed from Node'] }, counting);
    assert.equal(third.outcome, 'updated', JSON.stringify(third));
    assert.equal(methods.filter((m) => m !== 'GET').length, 1, `one write: ${methods}`);
  } finally {
    http.close();
  }
});

test('an unreachable target fails the principal, naming why', async () => {
  const http = new HttpTransport(`http://127.0.0.1:${await freePort()}/scim/v2`, TOKEN, { timeoutMs: 5000 });
  try {
    const r = new Provisioner(config(true)).provision('app', jane, http);
    assert.equal(r.outcome, 'failed');
    assert.match(r.error, /ECONNREFUSED/);
  } finally {
    http.close();
  }
});

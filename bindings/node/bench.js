// Per-request cost of `GET /Users/{id}` through Provider in process, over the example's storage (the PHP
// example's tables and mapping, rows in memory). Not a test: run it by hand.
//
//   node bindings/node/bench.js [REQUESTS=20000] [USERS=1000] [GROUPS=0]
//
// GROUPS: group i has user i modulo USERS as its member (a User's `groups` is computed on every GET).
// Bounded: stops after REQUESTS requests or two minutes, whichever comes first.

import { Provider } from './src/index.js';
import { MemoryStorage, config } from './example/index.js';

const [requests = 20000, users = 1000, groups = 0] = process.argv.slice(2).map(Number);
const JSON_HEADERS = [['Content-Type', 'application/scim+json']];

const p = new Provider(config('https://app.example/scim/v2'), new MemoryStorage());
const ids = [];
for (let i = 0; i < users; i++) {
  const r = p.handle('POST', '/Users', '', JSON_HEADERS, JSON.stringify({
    userName: `user${i}`, name: { givenName: 'Given', familyName: `Family${i}` },
    emails: [{ type: 'work', value: `user${i}@example.org` }], active: true,
  }));
  if (r.status !== 201) {
    throw new Error(r.body);
  }
  ids.push(r.json().id);
}
for (let i = 0; i < groups; i++) {
  const r = p.handle('POST', '/Groups', '', JSON_HEADERS, JSON.stringify({ displayName: `group${i}`, members: [{ value: ids[i % users] }] }));
  if (r.status !== 201) {
    throw new Error(r.body);
  }
}

function run(n) {
  const deadline = performance.now() + 120_000;
  const started = performance.now();
  const cpu = process.cpuUsage();
  let done = 0;
  for (; done < n && performance.now() < deadline; done++) {
    const r = p.handle('GET', `/Users/${ids[(done * 7919) % ids.length]}`);
    if (r.status !== 200) {
      throw new Error(r.body);
    }
  }
  const { user, system } = process.cpuUsage(cpu);
  return [done, (performance.now() - started) / 1000, (user + system) / 1e6];
}

// Warm-up: the engine's code is compiled in tiers; the measured run is on the optimised one.
run(Math.min(requests, 5000));
const [done, seconds, cpuSeconds] = run(requests);
console.log(`node ${process.version}, GET by id, ${users} users, ${groups} groups: ${done} requests in ${seconds.toFixed(2)} s, `
  + `${Math.round(done / seconds)} requests/s, ${((seconds * 1e6) / done).toFixed(1)} us each `
  + `(CPU time ${((cpuSeconds * 1e6) / done).toFixed(1)} us each, garbage collection included)`);

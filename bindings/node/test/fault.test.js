// In a file of its own, so that it runs in a fresh process: where a request runs out of stack depends on
// how far the engine's code has been optimised.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStorage } from 'scimkit/example';
import { JSON_HEADERS, provider, user } from './helpers.js';

test('an engine that faults answers 500, and the next request is served by a fresh instance', () => {
  const logged = [];
  const p = provider(new MemoryStorage(), { log: (line) => logged.push(line) });
  const id = p.handle('POST', '/Users', '', JSON_HEADERS, user('trap')).json().id;
  // Recursing until the stack is exhausted, then requesting from each frame on the way back: the first
  // request that returns runs out of stack inside the engine, which leaves the instance half-way as any
  // trap does. The ones before it fail in the caller's own code, before reaching the engine.
  const statuses = [];
  const deep = () => {
    try {
      deep();
    } catch {
      statuses.push(p.handle('GET', `/Users/${id}`).status);
    }
  };
  deep();
  assert.deepEqual(statuses, [500]);
  assert.ok(logged.some((l) => l.includes('instance discarded') && l.includes('RangeError')), logged.join('\n'));
  const again = p.handle('GET', `/Users/${id}`);
  assert.equal(again.status, 200, again.body);
  assert.equal(again.json().userName, 'trap');
});

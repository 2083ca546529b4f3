import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEMBER_PATH, SqlFilter } from 'scimkit';
import { rows } from './sqlite.js';

const COLUMNS = { id: 'id', username: 'username', email: 'email', active: 'active' };
const USERS = `CREATE TABLE t (id INTEGER PRIMARY KEY, username TEXT, email TEXT, active INTEGER);
  INSERT INTO t VALUES (1, 'Alice', 'a@x.org', 1), (2, 'bob', NULL, 0), (3, 'carol_1', 'c@y.com', 1);`;

const eq = (path, value, { type = 'text', caseExact = false, op = 'eq' } = {}) => ({ op, path, value, type, caseExact });

/** Runs the filter against a small table and returns the matching usernames. */
const names = (f) => rows(USERS, `SELECT username FROM t WHERE ${f.sql} ORDER BY id`, f.params).map((r) => r.username);

test('comparisons ignore case unless case-exact', () => {
  const f = SqlFilter.where(eq('username', 'alice'), COLUMNS);
  assert.deepEqual(names(f), ['Alice']);
  assert.ok(f.exact);
  assert.deepEqual(names(SqlFilter.where(eq('username', 'alice', { caseExact: true }), COLUMNS)), []);
});

test('booleans, nulls, presence and negation', () => {
  assert.deepEqual(names(SqlFilter.where(eq('active', true, { type: 'boolean' }), COLUMNS)), ['Alice', 'carol_1']);
  assert.deepEqual(names(SqlFilter.where(eq('email', null, { type: 'null' }), COLUMNS)), ['bob']);
  assert.deepEqual(names(SqlFilter.where({ op: 'pr', path: 'email' }, COLUMNS)), ['Alice', 'carol_1']);
  assert.deepEqual(names(SqlFilter.where({ op: 'not', arg: eq('username', 'bob') }, COLUMNS)), ['Alice', 'carol_1']);
  assert.deepEqual(names(SqlFilter.where(eq('username', 'bob', { op: 'ne' }), COLUMNS)), ['Alice', 'carol_1']);
});

test('LIKE wildcards in values are literal', () => {
  assert.deepEqual(names(SqlFilter.where(eq('username', 'L_', { op: 'co' }), COLUMNS)), ['carol_1']);
  assert.deepEqual(names(SqlFilter.where(eq('username', '%', { op: 'co' }), COLUMNS)), []);
  assert.deepEqual(names(SqlFilter.where(eq('email', '.ORG', { op: 'ew' }), COLUMNS)), ['Alice']);
});

test('unknown columns widen the result and say it is not exact', () => {
  const f = SqlFilter.where({ op: 'and', args: [eq('username', 'bob'), eq('title', 'x')] }, COLUMNS);
  assert.deepEqual(names(f), ['bob']);
  assert.ok(!f.exact);
  assert.equal(SqlFilter.where({ op: 'or', args: [eq('username', 'bob'), eq('title', 'x')] }, COLUMNS).sql, '1=1');
  const not = SqlFilter.where({ op: 'not', arg: eq('title; DROP TABLE t', 'x') }, COLUMNS);
  assert.deepEqual([not.sql, not.exact], ['1=1', false]);
  const proto = SqlFilter.where(eq('constructor', 'x'), COLUMNS);
  assert.deepEqual([proto.sql, proto.exact], ['1=1', false], 'no inherited property is a column');
});

test('ORDER BY listed columns only', () => {
  const f = SqlFilter.where(null, COLUMNS);
  assert.equal(f.orderBy({ path: 'username', descending: true, caseExact: false }, 'id'),
    'ORDER BY (username IS NULL) ASC, LOWER(username) DESC, id');
  assert.ok(f.exact, 'exact after a listed sort');
  assert.equal(f.orderBy({ path: 'title', descending: false, caseExact: false }, 'id'), 'ORDER BY id');
  assert.ok(!f.exact, 'an unlisted sort is left to the engine');
});

const MEMBERS = { table: 'rel', group: 'group_id', member: 'member_id', id: 'g.id' };
const GROUPS = `CREATE TABLE g (id INTEGER PRIMARY KEY, name TEXT);
  CREATE TABLE rel (group_id INTEGER, member_id TEXT);
  INSERT INTO g VALUES (1, 'admins'), (2, 'staff'), (3, 'empty');
  INSERT INTO rel VALUES (1, '7'), (2, '7'), (2, '8'), (1, 'Ab');`;

/** Runs the filter against groups with a membership table and returns the matching group names. */
const groups = (f) => rows(GROUPS, `SELECT name FROM g WHERE ${f.sql} ORDER BY id`, f.params).map((r) => r.name);
const member = (id, caseExact = true, op = 'eq') => eq(MEMBER_PATH, id, { caseExact, op });

test('membership is one subquery on the membership table', () => {
  const cols = { id: 'g.id', name: 'name' };
  let f = SqlFilter.where(member('8'), cols, 'sqlite', MEMBERS);
  assert.equal(f.sql, 'g.id IN (SELECT group_id FROM rel WHERE member_id = ?)');
  assert.deepEqual([groups(f), f.exact], [['staff'], true]);
  // A page of users at once: one IN list.
  f = SqlFilter.where({ op: 'or', args: [member('8'), member('7'), member('9')] }, cols, 'sqlite', MEMBERS);
  assert.equal(f.sql, 'g.id IN (SELECT group_id FROM rel WHERE member_id IN (?, ?, ?))');
  assert.deepEqual([groups(f), f.exact, f.params], [['admins', 'staff'], true, ['8', '7', '9']]);
  f = SqlFilter.where({ op: 'and', args: [eq('name', 'ADMINS'), member('7')] }, cols, 'sqlite', MEMBERS);
  assert.deepEqual([groups(f), f.exact], [['admins'], true]);
  assert.deepEqual(groups(SqlFilter.where({ op: 'not', arg: member('7') }, cols, 'sqlite', MEMBERS)), ['empty']);
});

test('membership ids compare without case only when asked', () => {
  const cols = { id: 'g.id' };
  assert.deepEqual(groups(SqlFilter.where(member('ab', false), cols, 'sqlite', MEMBERS)), ['admins']);
  assert.deepEqual(groups(SqlFilter.where(member('ab'), cols, 'sqlite', MEMBERS)), []);
  const f = SqlFilter.where({ op: 'or', args: [member('ab', false), member('8', false)] }, cols, 'sqlite', MEMBERS);
  assert.equal(f.sql, 'g.id IN (SELECT group_id FROM rel WHERE member_id = ? OR LOWER(member_id) = LOWER(?))');
  assert.deepEqual([groups(f), f.exact], [['admins', 'staff'], true]);
  assert.ok(!SqlFilter.where(member('Ab'), cols, 'mysql', MEMBERS).exact, 'MySQL compares without case: a superset');
});

test('membership without its table or beyond equality is left to the engine', () => {
  const cols = { id: 'g.id', name: 'name' };
  let f = SqlFilter.where(member('7'), cols);
  assert.deepEqual([f.sql, f.exact], ['1=1', false]);
  f = SqlFilter.where(member('7', true, 'co'), cols, 'sqlite', MEMBERS);
  assert.deepEqual([f.sql, f.exact], ['1=1', false]);
  f = SqlFilter.where({ op: 'or', args: [member('7'), eq('title', 'x')] }, cols, 'sqlite', MEMBERS);
  assert.deepEqual([groups(f), f.exact], [['admins', 'staff', 'empty'], false]);
  f = SqlFilter.where({ op: 'and', args: [member('8'), eq('members.display', 'x')] }, cols, 'sqlite', MEMBERS);
  assert.deepEqual([groups(f), f.exact], [['staff'], false]);
});

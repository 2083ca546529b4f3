// The storage import: the engine's calls as calls of the application's Storage (rows in its column names,
// a filter as a tree), and its answers back as the contract's values. Nothing thrown here may reach the
// component: every failure becomes a storage-error.

import { StorageError } from './storage-error.js';

/** jco reads a thrown object's `payload` as the `err` of a result. */
class Failure {
  constructor(payload) {
    this.payload = payload;
  }
}

function failure(e, log) {
  if (e instanceof StorageError) {
    switch (e.kind) {
      case 'not-found':
      case 'precondition-failed':
      case 'unsupported':
        return new Failure({ tag: e.kind });
      case 'conflict':
      case 'unavailable':
        return new Failure({ tag: e.kind, val: String(e.detail) });
    }
  }
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  log(`scimkit storage: ${detail}`);
  return new Failure({ tag: 'other', val: detail });
}

/** Ids and versions may come back as numbers (integer keys); they are text to the engine. */
function text(v, what) {
  if (v === null || v === undefined) {
    throw new Error(`the storage reply lacks ${what}`);
  }
  return String(v);
}

function optionalText(v) {
  return v === null || v === undefined ? undefined : String(v);
}

function stored(r) {
  if (r === null || typeof r !== 'object') {
    throw new Error('the storage reply: a resource must be an object');
  }
  const data = r.data;
  if (data === null || data === undefined) {
    throw new Error('the storage reply lacks data');
  }
  return {
    id: text(r.id, 'id'),
    version: text(r.version, 'version'),
    data: typeof data === 'string' ? data : JSON.stringify(data),
    members: r.members === null || r.members === undefined ? undefined : memberList(r.members),
  };
}

function memberList(ms) {
  if (!Array.isArray(ms)) {
    throw new Error('the storage reply: members must be a list');
  }
  return ms.map((m) => ({ value: text(m?.value, 'a member value'), kind: optionalText(m.type), display: optionalText(m.display) }));
}

const members = (ms) => ms.map((m) => ({ value: m.value, type: m.kind ?? null, display: m.display ?? null }));

/** The engine's body text as an object, so that the storage gets its row, not a string. */
function body(data) {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

function literal(v) {
  switch (v.tag) {
    case 'null':
      return ['null', null];
    case 'integer':
      return ['integer', Number.isSafeInteger(Number(v.val)) ? Number(v.val) : v.val];
    case 'date-time':
      return ['dateTime', v.val];
    default:
      return [v.tag, v.val];
  }
}

/** The flat filter as a nested tree, which is what a recursive SQL builder wants. */
function tree(f, i, depth) {
  const n = f.nodes[i];
  if (n === undefined || depth > 64) {
    throw new Error('malformed filter from the engine');
  }
  const sub = (c) => tree(f, c, depth + 1);
  switch (n.tag) {
    case 'all-of':
      return { op: 'and', args: Array.from(n.val, sub) };
    case 'any-of':
      return { op: 'or', args: Array.from(n.val, sub) };
    case 'negate':
      return { op: 'not', arg: sub(n.val) };
    case 'present':
      return { op: 'pr', path: n.val };
    case 'element-match':
      return { op: 'match', path: n.val[0], arg: sub(n.val[1]) };
    default: {
      const c = n.val;
      const [type, value] = literal(c.value);
      return { op: c.op, path: c.path, value, type, caseExact: c.caseExact };
    }
  }
}

function query(q) {
  return {
    resourceType: q.resourceType,
    filter: q.filter === undefined ? null : tree(q.filter, q.filter.root, 0),
    sort: q.sort === undefined ? null : { path: q.sort.path, descending: q.sort.descending, caseExact: q.sort.caseExact },
    startIndex: q.startIndex,
    count: q.count,
    withoutMembers: q.withoutMembers,
  };
}

function page(p) {
  if (p === null || typeof p !== 'object' || !Array.isArray(p.items)) {
    throw new Error('the storage reply: a page needs a list of items');
  }
  let applied;
  if (p.applied === 'everything') {
    if (p.total === null || p.total === undefined || !(Number(p.total) >= 0)) {
      throw new Error('applied everything needs a total');
    }
    applied = { tag: 'everything', val: BigInt(p.total) };
  } else {
    applied = { tag: p.applied === 'filter-only' ? 'filter-only' : 'nothing' };
  }
  return { items: p.items.map(stored), applied };
}

/** `null`, `[type, id]` or `{resourceType, id}`. */
function principal(v) {
  if (v === null || v === undefined) {
    return undefined;
  }
  if (Array.isArray(v) && v.length === 2) {
    return [text(v[0], 'a resource type'), text(v[1], 'an id')];
  }
  if (typeof v === 'object') {
    return [text(v.resourceType, 'resourceType'), text(v.id, 'id')];
  }
  throw new Error('the storage reply: a principal is null, [type, id] or an object');
}

/**
 * The storage import over `current()`, the running call's `{storage, log}`.
 * @param {() => ({storage?: object, log?: (line: string) => void} | undefined)} current
 */
export function storageImports(current) {
  const guard = (name, f) => (...args) => {
    const { storage, log = console.error } = current() ?? {};
    if (storage === undefined) {
      throw new Failure({ tag: 'other', val: `storage used outside a provider call (${name})` });
    }
    try {
      return f(storage, ...args);
    } catch (e) {
      throw failure(e, log);
    }
  };
  return {
    get: guard('get', (s, type, id, withMembers) => {
      const r = s.get(type, id, withMembers);
      return r === null || r === undefined ? undefined : stored(r);
    }),
    create: guard('create', (s, type, data, unique, ms) => stored(s.create(type, body(data), unique.map((k) => ({ ...k })), members(ms)))),
    update: guard('update', (s, c) => stored(s.update({
      resourceType: c.resourceType,
      id: c.id,
      data: c.data === undefined ? null : body(c.data),
      unique: c.unique.map((k) => ({ ...k })),
      clearMembers: c.clearMembers,
      removeMembers: c.removeMembers,
      addMembers: members(c.addMembers),
      ifVersion: c.ifVersion ?? null,
    }))),
    delete: guard('delete', (s, type, id, ifVersion) => {
      s.delete(type, id, ifVersion ?? null);
    }),
    search: guard('search', (s, q) => page(s.search(query(q)))),
    members: guard('members', (s, type, id, startIndex, count) => memberList(s.members(type, id, startIndex, count))),
    resolvePrincipal: guard('resolvePrincipal', (s, p) => {
      if (typeof s.resolvePrincipal !== 'function') {
        throw StorageError.unsupported();
      }
      return principal(s.resolvePrincipal(p));
    }),
    // Answered `unsupported`: the engine walks nested groups itself, one membership search per level.
    ancestors: guard('ancestors', () => {
      throw StorageError.unsupported();
    }),
  };
}

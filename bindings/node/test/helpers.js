import { Provider } from 'scimkit';
import { config } from 'scimkit/example';

export const JSON_HEADERS = { 'Content-Type': 'application/scim+json' };
export const BASE = 'https://app.example/scim/v2';
export const quiet = { log: () => {} };

/** A provider with the example's configuration over `storage`. */
export function provider(storage, options = quiet) {
  return new Provider(config(BASE), storage, options);
}

export function user(userName, extra = {}) {
  return JSON.stringify({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    name: { givenName: 'Barbara' },
    active: true,
    title: 'Tour guide',
    ...extra,
  });
}

export const filter = (f) => `filter=${encodeURIComponent(f)}`;

/**
 * Wraps a storage, recording every operation with its arguments; `failWith` makes each operation throw.
 */
export class Recording {
  ops = [];
  failWith = null;

  constructor(inner) {
    this.inner = inner;
  }

  #record(op, arg) {
    this.ops.push([op, arg]);
    if (this.failWith !== null) {
      throw this.failWith;
    }
  }

  get(type, id, withMembers) {
    this.#record('get', id);
    return this.inner.get(type, id, withMembers);
  }

  create(type, row, unique, members) {
    this.#record('create', row);
    return this.inner.create(type, row, unique, members);
  }

  update(change) {
    this.#record('update', change);
    return this.inner.update(change);
  }

  delete(type, id, ifVersion) {
    this.#record('delete', id);
    this.inner.delete(type, id, ifVersion);
  }

  search(q) {
    this.#record('search', q);
    const page = this.inner.search(q);
    this.ops.push(['page', page]);
    return page;
  }

  members(type, id, startIndex, count) {
    this.#record('members', id);
    return this.inner.members(type, id, startIndex, count);
  }

  all(op) {
    return this.ops.filter(([o]) => o === op).map(([, a]) => a);
  }

  last(op, which = () => true) {
    const found = this.all(op).filter(which);
    if (found.length === 0) {
      throw new Error(`no ${op} reached the storage`);
    }
    return found[found.length - 1];
  }
}

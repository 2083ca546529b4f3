// The example application's storage: its own rows (user, usergroup and the membership relation, as a
// Chamilo-like platform keeps them) in memory, in its own column names. It knows nothing of SCIM beyond the
// Storage contract.

import { RowFilter, StorageError } from '../src/index.js';

/** Per resource type: the application's columns, and the column whose value is unique (canonical form). */
const TABLES = {
  User: {
    columns: ['username', 'firstname', 'lastname', 'email', 'phone', 'official_code', 'language', 'active',
      'created_at', 'updated_at', 'scim_extra'],
    unique: 'username',
  },
  Group: { columns: ['name', 'external_id', 'created_at', 'updated_at', 'scim_extra'], unique: 'name' },
};

export class MemoryStorage {
  /** type => id => {data, revision, canonical} */
  #rows = { User: new Map(), Group: new Map() };
  /** type => canonical unique value => id */
  #taken = { User: new Map(), Group: new Map() };
  /** group id => Map(user id => display) in insertion order: the usergroup_rel_user table */
  #members = new Map();
  #nextId = 1;

  #table(type) {
    if (!Object.hasOwn(TABLES, type)) {
      throw StorageError.unsupported();
    }
    return this.#rows[type];
  }

  #row(type, id) {
    const r = this.#table(type).get(String(id));
    if (r === undefined) {
      throw StorageError.notFound();
    }
    return r;
  }

  /** Only the application's own columns are kept. */
  static #columns(type, row) {
    return Object.fromEntries(TABLES[type].columns.filter((c) => Object.hasOwn(row, c)).map((c) => [c, row[c]]));
  }

  #resource(type, id, r, withMembers) {
    return { id, version: String(r.revision), data: { ...r.data }, members: withMembers && type === 'Group' ? this.#groupMembers(id) : null };
  }

  /** Takes the unique value for `id`, releasing the one it held; a value held by another row is a conflict. */
  #claim(type, id, r, unique) {
    const column = TABLES[type].unique;
    const wanted = unique.find((u) => u.attribute === column)?.value ?? null;
    const holder = wanted === null ? undefined : this.#taken[type].get(wanted);
    if (holder !== undefined && holder !== id) {
      throw StorageError.conflict(column);
    }
    if (r.canonical !== null) {
      this.#taken[type].delete(r.canonical);
    }
    if (wanted !== null) {
      this.#taken[type].set(wanted, id);
    }
    r.canonical = wanted;
  }

  get(type, id, withMembers) {
    const r = this.#table(type).get(id);
    return r === undefined ? null : this.#resource(type, id, r, withMembers);
  }

  create(type, row, unique, members) {
    const table = this.#table(type);
    const id = String(this.#nextId);
    const r = { data: MemoryStorage.#columns(type, row), revision: 1, canonical: null };
    this.#claim(type, id, r, unique);
    this.#nextId++;
    if (type === 'User') {
      // New accounts are active unless the client says otherwise.
      r.data.active ??= 1;
    } else {
      this.#members.set(id, new Map());
      this.#addMembers(id, members);
    }
    table.set(id, r);
    return this.#resource(type, id, r, false);
  }

  update(c) {
    const r = this.#row(c.resourceType, c.id);
    if (c.ifVersion !== null && c.ifVersion !== String(r.revision)) {
      throw StorageError.preconditionFailed();
    }
    if (c.data !== null) {
      this.#claim(c.resourceType, c.id, r, c.unique);
      r.data = MemoryStorage.#columns(c.resourceType, c.data);
    }
    if (c.resourceType === 'Group') {
      const ms = this.#members.get(c.id);
      if (c.clearMembers) {
        ms.clear();
      }
      c.removeMembers.forEach((m) => ms.delete(m));
      this.#addMembers(c.id, c.addMembers);
    }
    r.revision++;
    return this.#resource(c.resourceType, c.id, r, false);
  }

  delete(type, id, ifVersion) {
    const r = this.#row(type, id);
    if (ifVersion !== null && ifVersion !== String(r.revision)) {
      throw StorageError.preconditionFailed();
    }
    this.#claim(type, id, r, []);
    this.#table(type).delete(id);
    if (type === 'User') {
      // The groups that lose a member change too.
      for (const [gid, ms] of this.#members) {
        if (ms.delete(id)) {
          this.#rows.Group.get(gid).revision++;
        }
      }
    } else {
      this.#members.delete(id);
    }
  }

  /**
   * The rows the pushed-down filter keeps: exactly the matches when it judged every row (the engine sorts
   * and pages), else candidates for the engine to filter too. Filters on members use the relation.
   */
  search(q) {
    const table = this.#table(q.resourceType);
    const isGroup = q.resourceType === 'Group';
    const hasMember = (gid, uid) => this.#members.get(gid)?.has(uid) ?? false;
    const filter = new RowFilter(q.filter, ['id', ...TABLES[q.resourceType].columns], isGroup ? hasMember : null);
    const items = [];
    for (const [id, r] of table) {
      if (filter.mayMatch(id, { id, ...r.data })) {
        items.push(this.#resource(q.resourceType, id, r, isGroup && !q.withoutMembers));
      }
    }
    return { items, applied: filter.decided ? 'filter-only' : 'nothing' };
  }

  members(type, id, startIndex, count) {
    this.#row(type, id);
    if (type !== 'Group') {
      return [];
    }
    const from = Math.max(0, startIndex - 1);
    return this.#groupMembers(id).slice(from, from + Math.max(0, count));
  }

  /** The display the client sent, else the user's name. */
  #groupMembers(gid) {
    return [...this.#members.get(gid)].map(([uid, display]) => ({
      value: uid,
      type: 'User',
      display: display ?? this.#rows.User.get(uid)?.data.username ?? null,
    }));
  }

  /** Only existing users can be members here; adding one again updates its display. */
  #addMembers(gid, members) {
    const ms = this.#members.get(gid);
    for (const m of members) {
      if ((m.type ?? 'User') === 'User' && this.#rows.User.has(m.value)) {
        ms.set(m.value, m.display ?? null);
      }
    }
  }
}

// The example application's storage on node:sqlite (Node 22.5 and later): its own tables (user, usergroup,
// usergroup_rel_user, as a Chamilo-like platform keeps them, the same as the PHP example's) in its own column
// names. It knows nothing of SCIM beyond the Storage contract; SqlFilter translates the engine's filters.

import { SqlFilter, StorageError } from '../src/index.js';

/** The tables; the only additions for SCIM are `scim_extra` and the members' `display` as the client sent it. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    username_canonical TEXT NOT NULL UNIQUE,
    firstname TEXT, lastname TEXT, email TEXT, official_code TEXT, phone TEXT, language TEXT,
    active INTEGER DEFAULT 1,
    created_at TEXT, updated_at TEXT, scim_extra TEXT,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS usergroup (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_canonical TEXT UNIQUE,
    description TEXT, external_id TEXT, created_at TEXT, updated_at TEXT, scim_extra TEXT,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS usergroup_rel_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    usergroup_id INTEGER NOT NULL REFERENCES usergroup(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    relation_type INTEGER NOT NULL DEFAULT 0,
    display TEXT,
    UNIQUE (usergroup_id, user_id)
);
-- A user's groups are read on every GET of the user: one lookup by user_id.
CREATE INDEX IF NOT EXISTS usergroup_rel_user_user ON usergroup_rel_user (user_id);
`;

/** Per resource type: table, writable columns, and the unique column kept in canonical form. */
const TYPES = {
  User: {
    table: 'user',
    columns: ['username', 'firstname', 'lastname', 'email', 'phone', 'official_code', 'language', 'active',
      'created_at', 'updated_at', 'scim_extra'],
    unique: { username: 'username_canonical' },
  },
  Group: {
    table: 'usergroup',
    columns: ['name', 'external_id', 'created_at', 'updated_at', 'scim_extra'],
    unique: { name: 'name_canonical' },
    // Filters on members are answered from the membership table (see SqlFilter).
    members: { table: 'usergroup_rel_user', group: 'usergroup_id', member: 'user_id', id: 'id' },
  },
};

function type(name) {
  if (!Object.hasOwn(TYPES, name)) {
    throw StorageError.unsupported();
  }
  return TYPES[name];
}

/** A value SQLite can bind: booleans as 0/1, objects as JSON text. */
function bindable(v) {
  if (typeof v === 'boolean') {
    return Number(v);
  }
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : v ?? null;
}

export class SqliteStorage {
  #db;
  #statements = new Map();

  /** @param {import('node:sqlite').DatabaseSync} db */
  constructor(db) {
    this.#db = db;
    db.exec('PRAGMA foreign_keys = ON');
    db.exec(SCHEMA);
  }

  /** Opens (creating when missing) the example's database at `path`; `:memory:` keeps nothing. */
  static async open(path) {
    const { DatabaseSync } = await import('node:sqlite');
    return new SqliteStorage(new DatabaseSync(path));
  }

  #sql(sql) {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #row(table, id) {
    return this.#sql(`SELECT * FROM ${table} WHERE id = ?`).get(id) ?? null;
  }

  #resource(t, row, members) {
    const data = Object.fromEntries(t.columns.map((c) => [c, row[c]]));
    return { id: String(row.id), version: String(row.revision), data, members };
  }

  /** The row's known columns, and each unique column's canonical copy. */
  static #values(t, row, unique) {
    const values = Object.fromEntries(t.columns.filter((c) => Object.hasOwn(row, c)).map((c) => [c, bindable(row[c])]));
    for (const key of unique) {
      if (Object.hasOwn(t.unique, key.attribute)) {
        values[t.unique[key.attribute]] = key.value;
      }
    }
    return values;
  }

  get(typeName, id, withMembers) {
    const t = type(typeName);
    const row = this.#row(t.table, id);
    return row === null ? null : this.#resource(t, row, withMembers && typeName === 'Group' ? this.#groupMembers(id) : null);
  }

  create(typeName, row, unique, members) {
    const t = type(typeName);
    const values = { ...SqliteStorage.#values(t, row, unique), revision: 1 };
    if (typeName === 'User') {
      values.active ??= 1;
    }
    return this.#write(t, () => {
      const cols = Object.keys(values);
      const sql = `INSERT INTO ${t.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
      const id = String(this.#sql(sql).run(...Object.values(values)).lastInsertRowid);
      if (typeName === 'Group') {
        this.#addMembers(id, members);
      }
      return this.#resource(t, this.#row(t.table, id), null);
    });
  }

  update(c) {
    const t = type(c.resourceType);
    return this.#write(t, () => {
      const current = this.#row(t.table, c.id);
      if (current === null) {
        throw StorageError.notFound();
      }
      if (c.ifVersion !== null && c.ifVersion !== String(current.revision)) {
        throw StorageError.preconditionFailed();
      }
      const values = c.data === null ? {} : SqliteStorage.#values(t, c.data, c.unique);
      // Columns the new row leaves out are cleared: the engine sends the whole row.
      if (c.data !== null) {
        t.columns.filter((col) => !Object.hasOwn(values, col)).forEach((col) => (values[col] = null));
      }
      values.revision = current.revision + 1;
      const set = Object.keys(values).map((col) => `${col} = ?`).join(', ');
      this.#sql(`UPDATE ${t.table} SET ${set} WHERE id = ?`).run(...Object.values(values), c.id);
      if (c.resourceType === 'Group') {
        if (c.clearMembers) {
          this.#sql('DELETE FROM usergroup_rel_user WHERE usergroup_id = ?').run(c.id);
        }
        const remove = this.#sql('DELETE FROM usergroup_rel_user WHERE usergroup_id = ? AND user_id = ?');
        c.removeMembers.forEach((userId) => remove.run(c.id, userId));
        this.#addMembers(c.id, c.addMembers);
      }
      return this.#resource(t, this.#row(t.table, c.id), null);
    });
  }

  delete(typeName, id, ifVersion) {
    const t = type(typeName);
    this.#write(t, () => {
      const current = this.#row(t.table, id);
      if (current === null) {
        throw StorageError.notFound();
      }
      if (ifVersion !== null && ifVersion !== String(current.revision)) {
        throw StorageError.preconditionFailed();
      }
      if (typeName === 'User') {
        // The groups that lose a member change too.
        this.#sql(`UPDATE usergroup SET revision = revision + 1 WHERE id IN
          (SELECT usergroup_id FROM usergroup_rel_user WHERE user_id = ?)`).run(id);
      }
      this.#sql(`DELETE FROM ${t.table} WHERE id = ?`).run(id);
    });
  }

  search(q) {
    const t = type(q.resourceType);
    const columns = Object.fromEntries(['id', ...t.columns].map((c) => [c, c]));
    const f = SqlFilter.where(q.filter, columns, 'sqlite', t.members ?? null);
    const order = f.orderBy(q.sort, 'id');
    const withMembers = !q.withoutMembers && q.resourceType === 'Group';
    const rows = f.exact
      ? this.#db.prepare(`SELECT * FROM ${t.table} WHERE ${f.sql} ${order} LIMIT ? OFFSET ?`).all(...f.params, q.count, q.startIndex - 1)
      : this.#db.prepare(`SELECT * FROM ${t.table} WHERE ${f.sql}`).all(...f.params);
    const items = rows.map((row) => this.#resource(t, row, withMembers ? this.#groupMembers(String(row.id)) : null));
    if (!f.exact) {
      return { items, applied: 'nothing' };
    }
    return { items, applied: 'everything', total: this.#total(t, f, q, items.length) };
  }

  /** The number of matches: known without counting when the page is not full. */
  #total(t, f, q, got) {
    if (got < q.count && (got > 0 || q.startIndex === 1)) {
      return q.startIndex - 1 + got;
    }
    return this.#db.prepare(`SELECT COUNT(*) AS n FROM ${t.table} WHERE ${f.sql}`).get(...f.params).n;
  }

  members(typeName, id, startIndex, count) {
    const t = type(typeName);
    if (this.#row(t.table, id) === null) {
      throw StorageError.notFound();
    }
    return typeName === 'Group' ? this.#groupMembers(id, startIndex, count) : [];
  }

  /** The display the client sent, else the user's name. */
  #groupMembers(groupId, startIndex = 1, count = -1) {
    return this.#sql(`SELECT u.id, COALESCE(r.display, u.username) AS display
        FROM usergroup_rel_user r JOIN user u ON u.id = r.user_id
        WHERE r.usergroup_id = ? ORDER BY r.id LIMIT ? OFFSET ?`)
      .all(groupId, count, startIndex - 1)
      .map((r) => ({ value: String(r.id), type: 'User', display: r.display }));
  }

  /** Only users can be members here; other ids are ignored. Adding a member again updates its display. */
  #addMembers(groupId, members) {
    const add = this.#sql(`INSERT INTO usergroup_rel_user (usergroup_id, user_id, display)
        SELECT ?, id, ? FROM user WHERE id = ?
        ON CONFLICT (usergroup_id, user_id) DO UPDATE SET display = excluded.display`);
    for (const m of members) {
      if ((m.type ?? 'User') === 'User') {
        add.run(groupId, m.display ?? null, m.value);
      }
    }
  }

  /** Runs `f` in a transaction; a taken unique value becomes a conflict on the mapped column. */
  #write(t, f) {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = f();
      this.#db.exec('COMMIT');
      return result;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      if (String(e?.message).includes('UNIQUE constraint failed')) {
        throw StorageError.conflict(Object.keys(t.unique)[0]);
      }
      throw e;
    }
  }
}

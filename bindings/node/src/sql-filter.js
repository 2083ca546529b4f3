// The engine's pushed-down filter (column names under a mapping) as a parameterised SQL WHERE clause.
//
// Only the listed columns are ever written into SQL. A part it cannot express (an unknown column, an element
// match, a case-exact substring on SQLite) is left out so that the result is a superset; `exact` then says so,
// and the storage answers `applied: 'nothing'` for the engine to narrow. Values are always parameters.
//
// Membership is no column: `members.value eq "id"` (MEMBER_PATH; how the engine finds a User's groups, and
// what clients send) arrives under that reserved path. Given the storage's membership table, it becomes
// `id IN (SELECT group FROM rel WHERE member = ?)`, and an `or` of such equalities one `member IN (…)`;
// without it, the comparison is left out like an unknown column.

/** The reserved path of a membership comparison. */
export const MEMBER_PATH = 'members.value';

const OPS = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' };

const escapeLike = (s) => s.replace(/[!%_]/g, (c) => `!${c}`);

export class SqlFilter {
  /** @type {string} */
  sql = '1=1';
  /** @type {Array<string|number|bigint|null>} values for the `?` placeholders, in order */
  params = [];
  /** Whether `sql` selects exactly the matches (else a superset). */
  exact = true;
  #columns;
  #dialect;
  #members;

  /**
   * @param {Record<string, string>} columns column name from the engine => SQL expression (a quoted column)
   * @param {'sqlite'|'pgsql'|'mysql'} dialect MySQL's default collation ignores case
   * @param {{table: string, group: string, member: string, id: string}|null} members the membership table of
   *   the searched type (SQL identifiers, never client input): `table` holds one row per membership, its
   *   `group` column the group's id and its `member` column the member's id; `id` is the searched table's id
   *   expression. Index `member` for a User's groups to be one lookup.
   */
  constructor(columns, dialect = 'sqlite', members = null) {
    this.#columns = columns;
    this.#dialect = dialect;
    this.#members = members;
  }

  /** The WHERE clause for a query's filter (null: every row). */
  static where(filter, columns, dialect = 'sqlite', members = null) {
    const f = new SqlFilter(columns, dialect, members);
    if (filter !== null && filter !== undefined) {
      f.sql = f.#node(filter) ?? '1=1';
    }
    return f;
  }

  /** `ORDER BY …` for the engine's sort key; an unlisted column orders by the tie-breaker only (not exact). */
  orderBy(sort, tieBreaker) {
    if (sort === null || sort === undefined) {
      return `ORDER BY ${tieBreaker}`;
    }
    const col = this.#columns[sort.path];
    if (col === undefined) {
      this.exact = false;
      return `ORDER BY ${tieBreaker}`;
    }
    const expr = sort.caseExact ? col : `LOWER(${col})`;
    // Absent values last, as the engine orders them.
    return `ORDER BY (${col} IS NULL) ASC, ${expr} ${sort.descending ? 'DESC' : 'ASC'}, ${tieBreaker}`;
  }

  /** @returns {string|null} null: no constraint (already marked inexact) */
  #node(n) {
    switch (n.op) {
      case 'and': {
        const parts = n.args.map((a) => this.#node(a)).filter((p) => p !== null);
        return parts.length === 0 ? null : `(${parts.join(' AND ')})`;
      }
      case 'or': {
        if (n.args.length > 0 && n.args.every((a) => this.#isMembership(a))) {
          return this.#memberOf(n.args);
        }
        const params = this.params.length;
        const parts = n.args.map((a) => this.#node(a));
        return parts.includes(null) ? this.#dropFrom(params) : `(${parts.join(' OR ')})`;
      }
      case 'not': {
        const params = this.params.length;
        const outer = this.exact;
        this.exact = true;
        const inner = this.#node(n.arg);
        const innerExact = this.exact;
        this.exact = outer && innerExact;
        return innerExact && inner !== null ? `(NOT ${inner})` : this.#dropFrom(params);
      }
      case 'pr': {
        const col = this.#column(n.path);
        return col === null ? null : `(${col} IS NOT NULL AND ${col} <> '')`;
      }
      case 'match':
        return this.#lost();
      default:
        return this.#compare(n);
    }
  }

  /** Leaves out a part already translated in pieces: the parameters its pieces took go too. */
  #dropFrom(params) {
    this.params.splice(params);
    return null;
  }

  #lost() {
    this.exact = false;
    return null;
  }

  #column(path) {
    return Object.hasOwn(this.#columns, path) ? this.#columns[path] : this.#lost();
  }

  #isMembership(n) {
    return this.#members !== null && n?.path === MEMBER_PATH && n.op === 'eq' && n.type === 'text';
  }

  /**
   * Groups holding any of the members: one subquery on the membership table. An id compared without case
   * uses `=` too when it has no letters (numbers, most often), so that the member index serves it.
   */
  #memberOf(equalities) {
    const { table, group, member, id } = this.#members;
    const plain = [];
    const folded = [];
    for (const n of equalities) {
      const v = String(n.value);
      (n.caseExact || v.toLowerCase() === v.toUpperCase() ? plain : folded).push(v);
      if (n.caseExact && this.#dialect === 'mysql') {
        // The default collation compares without case: a superset of the case-exact matches.
        this.exact = false;
      }
    }
    const conditions = [];
    if (plain.length > 0) {
      conditions.push(plain.length === 1 ? `${member} = ?` : `${member} IN (${plain.map(() => '?').join(', ')})`);
    }
    folded.forEach(() => conditions.push(`LOWER(${member}) = LOWER(?)`));
    this.params.push(...plain, ...folded);
    return `${id} IN (SELECT ${group} FROM ${table} WHERE ${conditions.join(' OR ')})`;
  }

  #compare(n) {
    if (n.path === MEMBER_PATH) {
      // Any other comparison of members is left to the engine.
      return this.#isMembership(n) ? this.#memberOf([n]) : this.#lost();
    }
    const col = this.#column(n.path);
    if (col === null) {
      return null;
    }
    const { op } = n;
    if (n.type === 'null') {
      return op === 'eq' ? `${col} IS NULL` : op === 'ne' ? `${col} IS NOT NULL` : this.#lost();
    }
    const value = typeof n.value === 'boolean' ? Number(n.value) : n.value;
    const text = n.type === 'text';
    const ignoreCase = text && !n.caseExact;
    if (text && n.caseExact && this.#dialect === 'mysql') {
      // The default collation compares without case: a superset of the case-exact matches.
      this.exact = false;
    }
    if (Object.hasOwn(OPS, op)) {
      const [lhs, rhs] = ignoreCase ? [`LOWER(${col})`, 'LOWER(?)'] : [col, '?'];
      this.params.push(value);
      const sql = `${lhs} ${OPS[op]} ${rhs}`;
      return op === 'ne' ? `(${col} IS NULL OR ${sql})` : sql;
    }
    const like = { co: (s) => `%${s}%`, sw: (s) => `${s}%`, ew: (s) => `%${s}` }[op];
    if (like === undefined) {
      return this.#lost();
    }
    if (!ignoreCase && this.#dialect !== 'pgsql') {
      // LIKE ignores case in SQLite and MySQL: a superset the engine narrows.
      this.exact = false;
    }
    this.params.push(like(escapeLike(String(value))));
    return ignoreCase ? `LOWER(${col}) LIKE LOWER(?) ESCAPE '!'` : `${col} LIKE ? ESCAPE '!'`;
  }
}

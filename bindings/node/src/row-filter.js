// The engine's pushed-down filter evaluated against rows held in memory, for a storage without a query
// language of its own (a database storage translates the tree with SqlFilter instead).
//
// It narrows, never decides: a part it cannot judge with certainty (a column not listed, an element match,
// text beyond ASCII, an ordering of text or dates) counts as a possible match, so that the rows it keeps are
// a superset of the matches: answer them with `applied: 'nothing'` and the engine filters, sorts and pages
// them exactly. When every row was judged with certainty (`decided`), the rows kept are exactly the matches
// and `applied: 'filter-only'` may answer them.

import { MEMBER_PATH } from './sql-filter.js';

const YES = 1;
const NO = 0;
const UNKNOWN = -1;

const not = (t) => (t === UNKNOWN ? UNKNOWN : 1 - t);
const truth = (b) => (b ? YES : NO);
const ascii = (s) => /^[\x00-\x7f]*$/.test(s);

export class RowFilter {
  #filter;
  #columns;
  #members;
  /** Whether every row so far was judged with certainty: then the rows that may match are the matches. */
  decided = true;

  /**
   * @param {object|null} filter the query's filter (null: every row)
   * @param {Iterable<string>} columns the storage's columns: a path outside them is judged by the engine alone
   * @param {((id: string, memberId: string) => boolean)|null} members the membership relation of the searched
   *   type, ids compared exactly (null: membership is left to the engine)
   */
  constructor(filter, columns, members = null) {
    this.#filter = filter ?? null;
    this.#columns = new Set(columns);
    this.#members = members;
  }

  /** Whether the row with this id may match: false only when it certainly does not. */
  mayMatch(id, row) {
    const t = this.#filter === null ? YES : this.#eval(this.#filter, id, row, 0);
    this.decided &&= t !== UNKNOWN;
    return t !== NO;
  }

  #eval(n, id, row, depth) {
    if (depth > 64 || n === null || typeof n !== 'object') {
      return UNKNOWN;
    }
    if (n.op === 'and' || n.op === 'or') {
      const stop = n.op === 'and' ? NO : YES;
      let out = n.op === 'and' ? YES : NO;
      for (const arg of n.args ?? []) {
        const t = this.#eval(arg, id, row, depth + 1);
        if (t === stop) {
          return t;
        }
        if (t === UNKNOWN) {
          out = UNKNOWN;
        }
      }
      return out;
    }
    if (n.op === 'not') {
      return not(this.#eval(n.arg, id, row, depth + 1));
    }
    if (n.path === MEMBER_PATH) {
      return this.#membership(n, id);
    }
    if (typeof n.path !== 'string' || !this.#columns.has(n.path)) {
      return UNKNOWN;
    }
    const v = row[n.path] ?? null;
    if (n.op === 'pr') {
      return v === null ? NO : typeof v === 'string' ? truth(v !== '') : UNKNOWN;
    }
    return compare(n.op, n.type, v, n.value, n.caseExact === true);
  }

  /**
   * `members.value eq "id"` by the relation. Compared without case, an id with letters that is not found as
   * written may still match: that stays for the engine.
   */
  #membership(n, id) {
    if (this.#members === null || id === null || id === undefined || n.op !== 'eq' || n.type !== 'text' || typeof n.value !== 'string') {
      return UNKNOWN;
    }
    if (this.#members(id, n.value)) {
      return YES;
    }
    return n.caseExact || n.value.toLowerCase() === n.value.toUpperCase() ? NO : UNKNOWN;
  }
}

function compare(op, type, v, value, caseExact) {
  if (type === 'null' || value === null) {
    return op === 'eq' ? truth(v === null) : op === 'ne' ? truth(v !== null) : UNKNOWN;
  }
  if (v === null) {
    // An absent value matches no comparison; whether it is "not equal" is the engine's to say.
    return op === 'ne' ? UNKNOWN : NO;
  }
  let equal = null;
  if (type === 'text' && typeof v === 'string' && typeof value === 'string' && ascii(v) && ascii(value)) {
    const a = caseExact ? v : v.toLowerCase();
    const b = caseExact ? value : value.toLowerCase();
    switch (op) {
      case 'co':
        return truth(a.includes(b));
      case 'sw':
        return truth(a.startsWith(b));
      case 'ew':
        return truth(a.endsWith(b));
      default:
        equal = a === b;
    }
  } else if (type === 'boolean' && typeof value === 'boolean') {
    const b = typeof v === 'boolean' ? v : v === 0 || v === 1 ? v === 1 : null;
    equal = b === null ? null : b === value;
  } else if ((type === 'integer' || type === 'decimal') && typeof v === 'number' && typeof value === 'number') {
    switch (op) {
      case 'eq':
        return truth(v === value);
      case 'ne':
        return truth(v !== value);
      case 'gt':
        return truth(v > value);
      case 'ge':
        return truth(v >= value);
      case 'lt':
        return truth(v < value);
      case 'le':
        return truth(v <= value);
      default:
        return UNKNOWN;
    }
  }
  if (equal === null) {
    return UNKNOWN;
  }
  return op === 'eq' ? truth(equal) : op === 'ne' ? truth(!equal) : UNKNOWN;
}

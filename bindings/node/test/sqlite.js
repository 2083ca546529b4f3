// Runs SQL with parameters on a fresh SQLite database: with node:sqlite where Node has it, else with the
// sqlite3 command-line shell (parameters bound by `.parameter set`, never written into the SQL).

import { execFileSync } from 'node:child_process';

let DatabaseSync = null;
try {
  ({ DatabaseSync } = await import('node:sqlite'));
} catch {
  // Node before 22.5: the shell below.
}

function literal(v) {
  if (v === null || v === undefined) {
    return 'NULL';
  }
  if (typeof v === 'number' || typeof v === 'bigint') {
    return String(v);
  }
  return `'${String(v).replaceAll("'", "''")}'`;
}

/** The rows `query` selects with `params` after `setup` ran, as objects. */
export function rows(setup, query, params) {
  if (DatabaseSync !== null) {
    const db = new DatabaseSync(':memory:');
    db.exec(setup);
    return db.prepare(query).all(...params).map((r) => ({ ...r }));
  }
  const bind = params.map((p, i) => `.parameter set ?${i + 1} "${literal(p).replace(/["\\]/g, '\\$&')}"`);
  const script = [setup, '.parameter init', ...bind, '.mode json', `${query};`].join('\n');
  const out = execFileSync('sqlite3', [':memory:'], { input: script, encoding: 'utf8' });
  return out.trim() === '' ? [] : JSON.parse(out);
}


import type { Server } from 'node:http';
import type { Storage } from '../src/index.js';

export const BASE_PATH: '/scim/v2';
/** The engine configuration for the example's columns. */
export function config(baseUrl: string): object;
/** The example application's rows in memory. */
export class MemoryStorage implements Storage {
  get: Storage['get'];
  create: Storage['create'];
  update: Storage['update'];
  delete: Storage['delete'];
  search: Storage['search'];
  members: Storage['members'];
}
/** The example's tables in SQLite (node:sqlite, Node 22.5 and later). */
export class SqliteStorage implements Storage {
  constructor(db: unknown);
  static open(path: string): Promise<SqliteStorage>;
  get: Storage['get'];
  create: Storage['create'];
  update: Storage['update'];
  delete: Storage['delete'];
  search: Storage['search'];
  members: Storage['members'];
}
/** SqliteStorage at `database` (default in memory) where Node has node:sqlite, else MemoryStorage. */
export function exampleStorage(database?: string): Promise<Storage>;
export function startServer(options: { host?: string; port?: number; token: string; storage?: Storage; log?: (line: string) => void }): Promise<Server>;

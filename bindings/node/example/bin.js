#!/usr/bin/env node
// `SCIM_TOKEN=t npx scimkit-example [--listen 127.0.0.1:8000] [--database FILE]`: the example application's
// SCIM server, its tables in SQLite (node:sqlite; in memory unless --database) or, on a Node without
// node:sqlite, its rows in memory.

import { BASE_PATH, exampleStorage, startServer } from './server.js';

function usage() {
  console.error('usage: scimkit-example [--listen HOST:PORT] [--database FILE]');
  process.exit(2);
}

function flag(args, name, fallback) {
  const at = args.indexOf(name);
  return at < 0 ? fallback : args[at + 1] ?? usage();
}

function listenAddress(value) {
  const m = /^(.*):(\d+)$/.exec(value);
  return m === null ? usage() : { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

const token = process.env.SCIM_TOKEN;
if (!token) {
  console.error('set SCIM_TOKEN to the bearer token clients must send');
  process.exit(2);
}
const args = process.argv.slice(2);
const { host, port } = listenAddress(flag(args, '--listen', '127.0.0.1:8000'));
const storage = await exampleStorage(flag(args, '--database', ':memory:'));
const server = await startServer({ host, port, token, storage });
const { address, port: bound } = server.address();
console.log(`SCIM at http://${address}:${bound}${BASE_PATH} (${storage.constructor.name})`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

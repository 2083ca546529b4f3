#!/usr/bin/env node
// `SCIM_TOKEN=t npx scimkit-example [--listen 127.0.0.1:8000]`: the example application's SCIM server.

import { BASE_PATH, startServer } from './server.js';

function listenAddress(args) {
  const at = args.indexOf('--listen');
  const value = at >= 0 ? args[at + 1] : '127.0.0.1:8000';
  const m = /^(.*):(\d+)$/.exec(value ?? '');
  if (m === null) {
    console.error('usage: scimkit-example [--listen HOST:PORT]');
    process.exit(2);
  }
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

const token = process.env.SCIM_TOKEN;
if (!token) {
  console.error('set SCIM_TOKEN to the bearer token clients must send');
  process.exit(2);
}
const { host, port } = listenAddress(process.argv.slice(2));
const server = await startServer({ host, port, token });
const { address, port: bound } = server.address();
console.log(`SCIM at http://${address}:${bound}${BASE_PATH}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

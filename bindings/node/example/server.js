// The example application's SCIM endpoint on Node's HTTP server. Everything SCIM is the engine's; this file
// only authenticates and hands over the request.

import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { Provider } from '../src/index.js';
import { config } from './config.js';
import { MemoryStorage } from './memory-storage.js';
import { SqliteStorage } from './sqlite-storage.js';

export const BASE_PATH = '/scim/v2';
/** Past the engine's own limit (1 MiB by default), so that the engine answers the 413 itself. */
const MAX_BODY_BYTES = 4 << 20;

function error(res, status, detail, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/scim+json', ...headers });
  res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail }));
}

function authorised(given, expected) {
  const a = Buffer.from(given ?? '');
  return a.length === expected.length && timingSafeEqual(a, expected);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The example's tables in SQLite at `database` where Node has node:sqlite, else its rows in memory. */
export async function exampleStorage(database = ':memory:') {
  try {
    return await SqliteStorage.open(database);
  } catch (e) {
    if (e?.code !== 'ERR_UNKNOWN_BUILTIN_MODULE') {
      throw e;
    }
    return new MemoryStorage();
  }
}

/**
 * Serves SCIM on `host:port` (port 0: any free port) with `storage` (the example's, by default).
 * @returns {Promise<http.Server>} listening; its address() gives the port
 */
export async function startServer({ host = '127.0.0.1', port = 8000, token, storage, log = console.error }) {
  if (!token) {
    throw new Error('a bearer token is required');
  }
  storage ??= await exampleStorage();
  const expected = Buffer.from(`Bearer ${token}`);
  const server = http.createServer();
  let provider;
  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      if (path !== BASE_PATH && !path.startsWith(`${BASE_PATH}/`)) {
        error(res, 404, `SCIM is served under ${BASE_PATH}`);
        return;
      }
      if (!authorised(req.headers.authorization, expected)) {
        error(res, 401, 'a valid bearer token is required', { 'WWW-Authenticate': 'Bearer' });
        return;
      }
      const body = await readBody(req);
      const below = decodeURIComponent(path.slice(BASE_PATH.length)) || '/';
      const headers = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      }
      const r = provider.handle(req.method, below, url.search.slice(1), headers, body.length === 0 ? null : body);
      const out = {};
      for (const [k, v] of r.headers) {
        out[k] = k in out ? [].concat(out[k], v) : v;
      }
      res.writeHead(r.status, out);
      res.end(r.body);
    } catch (e) {
      log(`scimkit example: ${e?.stack ?? e}`);
      if (!res.headersSent) {
        error(res, e?.status ?? 400, e?.status === 413 ? 'the request body is too large' : 'the request could not be read');
      }
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { address, port: bound } = server.address();
  const name = address.includes(':') ? `[${address}]` : address;
  provider = new Provider(config(`http://${name}:${bound}${BASE_PATH}`), storage, { log });
  return server;
}

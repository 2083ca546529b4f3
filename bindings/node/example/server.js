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

/** A client's mistake, answered with its status and not logged. */
class BadRequest extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** The body, up to MAX_BODY_BYTES; past it the rest is discarded and the answer is 413. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const collect = (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', collect);
        req.resume();
        reject(new BadRequest(413, 'the request body is too large'));
        return;
      }
      chunks.push(c);
    };
    req.on('data', collect);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function below(path) {
  try {
    return decodeURIComponent(path.slice(BASE_PATH.length)) || '/';
  } catch {
    throw new BadRequest(400, 'the path is not valid percent-encoding');
  }
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
      const scimPath = below(path);
      const body = await readBody(req);
      const headers = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      }
      const r = provider.handle(req.method, scimPath, url.search.slice(1), headers, body.length === 0 ? null : body);
      const out = {};
      for (const [k, v] of r.headers) {
        out[k] = k in out ? [].concat(out[k], v) : v;
      }
      res.writeHead(r.status, out);
      res.end(r.body);
    } catch (e) {
      if (!(e instanceof BadRequest)) {
        log(`scimkit example: ${e?.stack ?? e}`);
      }
      if (!res.headersSent) {
        const bad = e instanceof BadRequest;
        error(res, bad ? e.status : 500, bad ? e.message : 'the request could not be served', { Connection: 'close' });
      }
    }
  });
  // Requests Node's parser refuses (a malformed request line, an unknown method) get a SCIM error too.
  server.on('clientError', (err, socket) => {
    if (socket.writable) {
      const body = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: 'malformed HTTP request' });
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/scim+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
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

// The HttpTransport's worker thread: performs one request at a time with Node's HTTP client, posts the answer
// and wakes the waiting thread.

import http from 'node:http';
import https from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';

const { replies, flag } = workerData;

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function answer(message) {
  replies.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

function send({ url, method, headers, body, timeoutMs }) {
  let target;
  try {
    target = new URL(url);
  } catch (e) {
    answer({ error: { kind: 'unreachable', detail: `bad URL ${url}: ${e.message}` } });
    return;
  }
  const client = target.protocol === 'https:' ? https : http;
  const outgoing = {};
  for (const [k, v] of headers) {
    outgoing[k] = k in outgoing ? [].concat(outgoing[k], v) : v;
  }
  let connected = false;
  let done = false;
  // A timed-out request is destroyed, which reports an error too: the first outcome is the answer.
  const finish = (message) => {
    if (!done) {
      done = true;
      answer(message);
    }
  };
  const req = client.request(target, { method, headers: outgoing, timeout: timeoutMs }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const pairs = [];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
      }
      finish({ status: res.statusCode, headers: pairs, body: new Uint8Array(Buffer.concat(chunks)) });
    });
    res.on('error', (e) => finish({ error: { kind: 'broken', detail: e.message } }));
  });
  req.on('socket', (s) => s.on('connect', () => {
    connected = true;
  }));
  req.on('timeout', () => {
    finish({ error: { kind: 'timed-out', detail: '' } });
    req.destroy();
  });
  req.on('error', (e) => {
    const kind = !connected || UNREACHABLE.has(e.code) || String(e.code).startsWith('ERR_TLS') || e.code?.includes('CERT') ? 'unreachable' : 'broken';
    finish({ error: { kind, detail: `${e.code ?? ''} ${e.message}`.trim() } });
  });
  req.end(body ?? undefined);
}

parentPort.on('message', send);

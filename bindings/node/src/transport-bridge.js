// The transport import: the provisioner's requests to the application's Transport. Nothing thrown here may
// reach the component: a failure becomes a transport-error, which fails the principal with its message.

import { TransportError } from './transport-error.js';

function failure(e) {
  if (e instanceof TransportError) {
    return { payload: e.kind === 'timed-out' ? { tag: 'timed-out' } : { tag: e.kind, val: e.detail } };
  }
  return { payload: { tag: 'broken', val: e instanceof Error ? e.message : String(e) } };
}

function bytes(body) {
  if (body === null || body === undefined) {
    return new Uint8Array(0);
  }
  return typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** @param {() => ({transport?: object} | undefined)} current */
export function transportImports(current) {
  return {
    send(req) {
      const transport = current()?.transport;
      try {
        if (transport === undefined) {
          throw new TransportError('unreachable', 'no transport for this call');
        }
        const r = transport.send({
          method: req.method,
          path: req.path,
          query: req.query,
          headers: req.headers.map(([k, v]) => [k, v]),
          body: req.body === undefined ? null : req.body,
        });
        const status = Number(r?.status);
        if (!Number.isInteger(status) || status < 100 || status > 999) {
          throw new TransportError('broken', `the transport answered no HTTP status: ${r?.status}`);
        }
        return { status, headers: (r.headers ?? []).map(([k, v]) => [String(k), String(v)]), body: bytes(r.body) };
      } catch (e) {
        throw failure(e);
      }
    },
  };
}

// A SCIM target over HTTP(S) for the Provisioner. The engine calls its transport synchronously, while Node's
// HTTP client is asynchronous: the request runs on a worker thread, and the calling thread waits for its
// answer on a shared flag. Never follows redirects.

import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { TransportError } from './transport-error.js';

const WORKER = new URL('./http-worker.js', import.meta.url);

export class HttpTransport {
  #base;
  #authorization;
  #timeoutMs;
  #worker = null;
  #replies = null;
  #flag = new Int32Array(new SharedArrayBuffer(4));

  /**
   * @param {string} baseUrl the target's SCIM base (`https://app.example.com/scim/v2`)
   * @param {string} token the bearer token the target expects
   * @param {{timeoutMs?: number}} [options] per request (default 30 s)
   */
  constructor(baseUrl, token, { timeoutMs = 30_000 } = {}) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#authorization = `Bearer ${token}`;
    this.#timeoutMs = timeoutMs;
  }

  #start() {
    if (this.#worker === null) {
      const { port1, port2 } = new MessageChannel();
      this.#worker = new Worker(WORKER, { workerData: { replies: port2, flag: this.#flag }, transferList: [port2] });
      // An idle transport does not keep the process alive.
      this.#worker.unref();
      this.#replies = port1;
    }
  }

  /** @returns {{status: number, headers: Array<[string, string]>, body: Uint8Array}} */
  send(request) {
    this.#start();
    const url = this.#base + request.path + (request.query ? `?${request.query}` : '');
    const headers = [...request.headers, ['Authorization', this.#authorization]];
    Atomics.store(this.#flag, 0, 0);
    this.#worker.postMessage({ url, method: request.method, headers, body: request.body, timeoutMs: this.#timeoutMs });
    // The worker enforces the timeout; the extra second only guards against a worker that died.
    const waited = Atomics.wait(this.#flag, 0, 0, this.#timeoutMs + 1000);
    const reply = receiveMessageOnPort(this.#replies)?.message;
    if (waited === 'timed-out' || reply === undefined) {
      this.close();
      throw new TransportError('timed-out');
    }
    if (reply.error !== undefined) {
      throw new TransportError(reply.error.kind, reply.error.detail);
    }
    return { status: reply.status, headers: reply.headers, body: reply.body };
  }

  /** Stops the worker thread; a later send() starts another. */
  close() {
    this.#worker?.terminate();
    this.#worker = null;
    this.#replies?.close();
    this.#replies = null;
  }
}

import { isContractError, run } from './engine.js';
import { configError, jsonText } from './scim-error.js';
import { Response } from './response.js';

const decoder = new TextDecoder();

/** Headers as `[[name, value]]`, a plain object (values may be lists), or anything iterable as pairs. */
function headerList(headers) {
  if (headers === null || headers === undefined) {
    return [];
  }
  const pairs = Array.isArray(headers) || typeof headers[Symbol.iterator] === 'function' ? headers : Object.entries(headers);
  const out = [];
  for (const [name, value] of pairs) {
    if (Array.isArray(value)) {
      value.forEach((v) => out.push([String(name), String(v)]));
    } else if (value !== undefined && value !== null) {
      out.push([String(name), String(value)]);
    }
  }
  return out;
}

function bodyBytes(body) {
  if (body === null || body === undefined) {
    return undefined;
  }
  if (typeof body === 'string') {
    return new TextEncoder().encode(body);
  }
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

function internalError(detail) {
  const body = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '500', detail });
  return new Response(500, [['Content-Type', 'application/scim+json']], body);
}

/**
 * A SCIM service provider over an application's Storage: hand it each HTTP request below the SCIM base.
 * Authentication is the caller's: check credentials before calling handle(). Create one per configuration
 * and keep it: the engine instance behind it is shared by the process and reused across requests.
 */
export class Provider {
  #config;
  #serving;

  /**
   * @param {object|string} config the engine configuration (baseUrl, mapping, …; see wit/scim.wit)
   * @param {object} storage the application's Storage
   * @param {{log?: (line: string) => void, hooks?: import('./hooks.js').Hooks}} [options] where storage failures
   *   and traps are logged (console.error); what the application says before each write and hears after it
   * @throws {ScimError} naming the offending key when the configuration is refused
   */
  constructor(config, storage, options = {}) {
    if (storage === null || typeof storage !== 'object') {
      throw new TypeError('a Provider needs a storage');
    }
    this.#config = jsonText(config);
    this.#serving = { storage, hooks: options.hooks ?? null, log: options.log ?? console.error };
    // Checks the configuration now rather than on the first request.
    try {
      run(this.#serving, (instance) => this.#service(instance));
    } catch (e) {
      throw isContractError(e) ? configError(e, 'the configuration') : e;
    }
  }

  #service(instance) {
    return instance.resource(this, (exports) => exports.provider.ServiceProvider.create(this.#config));
  }

  /**
   * Answers one request. Every failure, including one of the storage or a trap of the engine, is a SCIM
   * error response.
   * @param {string} method
   * @param {string} path below the SCIM base, decoded (`/Users/42`)
   * @param {string} [query] the raw query string without `?`
   * @param {object|Array<[string, string]>} [headers]
   * @param {string|Uint8Array|null} [body]
   * @param {string|null} [principal] the authenticated user, for `/Me`
   * @returns {Response}
   */
  handle(method, path, query = '', headers = [], body = null, principal = null) {
    const req = { method: String(method).toUpperCase(), path: String(path), query: query ?? '', headers: headerList(headers), body: bodyBytes(body) };
    const who = { principal: principal ?? undefined };
    try {
      const r = run(this.#serving, (instance) => this.#service(instance).handle(who, req));
      return new Response(r.status, r.headers, decoder.decode(r.body));
    } catch (e) {
      this.#serving.log(`scimkit: the engine failed on ${req.method} ${req.path}; instance discarded: ${e?.stack ?? e}`);
      return internalError('internal error');
    }
  }
}

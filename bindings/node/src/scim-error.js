/** A refused configuration or mapping, or an engine failure outside a request (a mapper's, a provisioner's). */
export class ScimError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ScimError';
  }
}

/** A `config-error` of the contract as a ScimError; the engine's message names the offending key. */
export function configError(e, what) {
  const p = e.payload;
  return new ScimError(p?.tag === 'not-json' ? `${what} is not JSON: ${p.val}` : String(p?.val ?? e.message));
}

/** A configuration given as an object or as JSON text. */
export function jsonText(config) {
  return typeof config === 'string' ? config : JSON.stringify(config);
}

import { isContractError, run } from './engine.js';
import { configError, jsonText, ScimError } from './scim-error.js';

/** Directory attributes as the contract's list of (name, values): from an object or a list of pairs. */
export function attributeList(attrs) {
  const pairs = Array.isArray(attrs) ? attrs : Object.entries(attrs ?? {});
  return pairs.map(([name, values]) => [String(name), (Array.isArray(values) ? values : [values]).map(String)]);
}

/** The contract's list of (name, values) as an object; several entries of one name are one attribute. */
export function attributeObject(list) {
  const out = {};
  for (const [name, values] of list) {
    (out[name] ??= []).push(...values);
  }
  return out;
}

/**
 * Runs `call(resource)` on the resource `owner` keeps in the running instance, made by `make(exports)`.
 * A contract error of `make` is a refused configuration; of `call`, the operation's failure.
 */
export function withResource(owner, serving, make, call) {
  return run(serving, (instance) => call(instance.resource(owner, make)));
}

/** Directory attributes to SCIM resources and back, by the declarative mapping (see wit/scim.wit). */
export class Mapper {
  #mapping;

  /** @throws {ScimError} naming the offending rule when the mapping is refused */
  constructor(mapping) {
    this.#mapping = jsonText(mapping);
    try {
      this.#call(() => undefined);
    } catch (e) {
      throw isContractError(e) ? configError(e, 'the mapping') : e;
    }
  }

  #call(f) {
    return withResource(this, {}, (exports) => exports.mapper.Mapper.create(this.#mapping), f);
  }

  /**
   * The User, then each derived Group, as objects.
   * @param {Record<string, string|string[]>|Array<[string, string[]]>} attributes
   */
  toResources(attributes) {
    const list = attributeList(attributes);
    try {
      return this.#call((m) => m.toResources(list)).map((text) => JSON.parse(text));
    } catch (e) {
      throw isContractError(e) ? new ScimError(String(e.payload)) : e;
    }
  }

  /** One SCIM resource (object or JSON text) to flat attributes, under the names the mapping reads. */
  toAttributes(resource) {
    const text = jsonText(resource);
    try {
      return attributeObject(this.#call((m) => m.toAttributes(text)));
    } catch (e) {
      throw isContractError(e) ? new ScimError(String(e.payload)) : e;
    }
  }
}

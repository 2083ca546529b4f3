import { isContractError } from './engine.js';
import { attributeList, withResource } from './mapper.js';
import { configError, jsonText } from './scim-error.js';

/**
 * The provisioning client: a principal's directory attributes in, the minimal SCIM requests out, through a
 * Transport (see HttpTransport). Configured with the provisioner JSON (services, each with `enabled` and a
 * `mapping`; see wit/scim.wit). Whether a target takes PATCH is asked once per service and remembered.
 */
export class Provisioner {
  #config;

  /** @throws {ScimError} naming the offending key when the configuration is refused */
  constructor(config) {
    this.#config = jsonText(config);
    try {
      this.#call({}, () => undefined);
    } catch (e) {
      throw isContractError(e) ? configError(e, 'the provisioner configuration') : e;
    }
  }

  #call(serving, f) {
    return withResource(this, serving, (exports) => exports.provisioner.Provisioner.create(this.#config), f);
  }

  /**
   * Provisions one principal into one service's target, sending through `transport`. Never throws for the
   * target's or the transport's failures: they are a `failed` report with the steps done before.
   * @returns {{outcome: 'created'|'updated'|'unchanged'|'skipped'|'failed', error: string|null, steps: object[]}}
   */
  provision(service, attributes, transport) {
    const attrs = attributeList(attributes);
    const r = this.#call({ transport }, (p) => p.provision(String(service), attrs));
    return {
      outcome: r.outcome.tag,
      error: r.outcome.tag === 'failed' ? r.outcome.val : null,
      steps: r.steps.map((s) => ({ action: s.action, method: s.method, path: s.path, status: s.status ?? null, detail: s.detail })),
    };
  }
}

// What the application hears of every change, and its say before it (the `events` interface of wit/scim.wit),
// with the shape of PHP's Scimkit\Hooks and Java's org.scimkit.Hooks.

/**
 * Do-nothing hooks: extend this class and override what you need, then pass it as `options.hooks` of a
 * Provider. A change is `{resourceType, id ('' before a create is stored), operations ('create' | 'replace' |
 * 'patch' | 'delete' | 'members-added' | 'members-removed' | 'activated' | 'deactivated'), paths, before,
 * after (SCIM resources or null, never a password), membersAdded, membersRemoved, membersCleared}`.
 */
export class Hooks {
  /**
   * Before every write.
   * @returns {null | {adjust: object} | {refuse: object}} null allows it; Hooks.adjust() or Hooks.refuse()
   */
  check(_change) {
    return null;
  }

  /** After every successful write, with the resource's new version ('' after a delete). */
  changed(_change, _version) {}

  /** Write this SCIM resource instead (validated as a PUT body; members and the password are kept). */
  static adjust(resource) {
    return { adjust: resource };
  }

  /** Refuse the write: the client gets this RFC 7644 error. */
  static refuse(status, detail, scimType = null) {
    return { refuse: { status, detail, scimType } };
  }
}

function changeIn(c) {
  const image = (text) => (text === undefined || text === null ? null : JSON.parse(text));
  return {
    resourceType: c.resourceType,
    id: c.id,
    operations: [...c.operations],
    paths: [...c.paths],
    before: image(c.before),
    after: image(c.after),
    membersAdded: [...c.membersAdded],
    membersRemoved: [...c.membersRemoved],
    membersCleared: c.membersCleared,
  };
}

function verdictOut(v) {
  if (v === null || v === undefined) {
    return { tag: 'allow' };
  }
  if (v.adjust !== undefined) {
    return { tag: 'adjust', val: JSON.stringify(v.adjust) };
  }
  if (v.refuse !== undefined) {
    const { status, detail, scimType } = v.refuse;
    return { tag: 'refuse', val: { status: Number(status), scimType: scimType ?? undefined, detail: String(detail) } };
  }
  throw new TypeError('check must return null, Hooks.adjust(…) or Hooks.refuse(…)');
}

/**
 * The `events` import over `current()`, the running call's `{hooks, log}`. Without hooks every write is
 * allowed. A check that throws refuses the write with a 500 and a changed that throws is logged: the engine
 * must get an answer, never an exception.
 */
export function hooksImports(current) {
  return {
    check(c) {
      const { hooks, log = console.error } = current() ?? {};
      if (hooks === undefined || hooks === null) {
        return { tag: 'allow' };
      }
      try {
        return verdictOut(hooks.check(changeIn(c)));
      } catch (e) {
        log(`scimkit hooks: check failed: ${e?.stack ?? e}`);
        return { tag: 'refuse', val: { status: 500, detail: "the application's check of this write failed" } };
      }
    },
    stage() {},
    changed(c, version) {
      const { hooks, log = console.error } = current() ?? {};
      try {
        hooks?.changed(changeIn(c), version);
      } catch (e) {
        log(`scimkit hooks: changed failed: ${e?.stack ?? e}`);
      }
    },
  };
}

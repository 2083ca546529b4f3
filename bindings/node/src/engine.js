// The component, compiled once per process, and its instances. Calls are synchronous, so one instance
// serves every provider, mapper and provisioner of the process; a call made while another is running (a
// storage calling a provider) takes another instance. A trap throws its instance away: the next call
// instantiates afresh.

import { readFileSync } from 'node:fs';
import { cli, io } from '@bytecodealliance/preview2-shim';
import { instantiate } from '../gen/scimkit.js';
import { storageImports } from './storage-bridge.js';
import { transportImports } from './transport-bridge.js';

const GEN = new URL('../gen/', import.meta.url);
const compiled = new Map();

function coreModule(name) {
  let module = compiled.get(name);
  if (module === undefined) {
    module = new WebAssembly.Module(readFileSync(new URL(name, GEN)));
    compiled.set(name, module);
  }
  return module;
}

/** What the running call serves: its storage and transport. Calls nest, so this is a stack. */
const hosts = [];
const host = () => hosts[hosts.length - 1] ?? {};

function now() {
  const ms = Date.now();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
}

// The guest's standard library imports stdio and environment; it reaches them only when failing.
const wasi = Object.fromEntries([
  ...Object.entries(cli).filter(([k]) => !k.startsWith('_')).map(([k, v]) => [`wasi:cli/${kebab(k)}`, v]),
  ...Object.entries(io).filter(([k]) => !k.endsWith('Create')).map(([k, v]) => [`wasi:io/${kebab(k)}`, v]),
]);

function kebab(name) {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const imports = {
  ...wasi,
  'scimkit:scim/clock': { now },
  // Change events: this binding has no hooks yet, so every write is allowed and nothing is journaled.
  'scimkit:scim/events': { check: () => ({ tag: 'allow' }), stage: () => {}, changed: () => {} },
  'scimkit:scim/storage': storageImports(host),
  'scimkit:scim/transport': transportImports(host),
};

/** One instance and the resources made in it, by owner (a Provider, a Mapper, a Provisioner). */
class Instance {
  constructor() {
    this.exports = instantiate(coreModule, imports);
    this.resources = new WeakMap();
    /** Every resource made here, to release them with the instance; pruned as their owners go. */
    this.made = [];
    this.pruneAt = 64;
  }

  resource(owner, make) {
    let r = this.resources.get(owner);
    if (r === undefined) {
      r = make(this.exports);
      this.resources.set(owner, r);
      this.made.push(new WeakRef(r));
      if (this.made.length > this.pruneAt) {
        this.made = this.made.filter((ref) => ref.deref() !== undefined);
        this.pruneAt = Math.max(64, 2 * this.made.length);
      }
    }
    return r;
  }

  /** Releases what it holds now, so that no finalizer later calls into a trapped instance. */
  discard() {
    for (const ref of this.made) {
      try {
        ref.deref()?.[Symbol.dispose]?.();
      } catch {
        // The instance is gone either way.
      }
    }
    this.made = [];
  }
}

const idle = [];

/** A component call's error that is a value of the contract (a refused configuration), not a trap. */
export function isContractError(e) {
  return e !== null && typeof e === 'object' && Object.hasOwn(e, 'payload') && !(e instanceof WebAssembly.RuntimeError);
}

/**
 * Runs `call(instance)` with `serving` (storage, transport) as the host of its imports. Any exception other
 * than a contract error is a trap: the instance is discarded and the exception rethrown.
 */
export function run(serving, call) {
  const instance = idle.pop() ?? new Instance();
  hosts.push(serving);
  try {
    const result = call(instance);
    idle.push(instance);
    return result;
  } catch (e) {
    if (isContractError(e)) {
      idle.push(instance);
    } else {
      instance.discard();
    }
    throw e;
  } finally {
    hosts.pop();
  }
}


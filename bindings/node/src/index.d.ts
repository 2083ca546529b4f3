// The package's API. The component's own bindings, as jco generated them, are in gen/scimkit.d.ts.

/** A stored row in the application's column names (under a mapping), or the SCIM body without one. */
export type Row = Record<string, unknown>;

export interface Member {
  value: string;
  /** `User` or `Group` */
  type: string | null;
  display: string | null;
}

/** A resource as the storage keeps it; `version` changes on every write, membership included. */
export interface Resource {
  id: string | number;
  version: string | number;
  data: Row | string;
  /** null unless asked for */
  members?: Member[] | null;
}

/** A value to keep unique per resource type: `attribute` is the column, `value` normalised. */
export interface Unique {
  attribute: string;
  value: string;
}

export interface Change {
  resourceType: string;
  id: string;
  /** null: a membership-only change, the row stays */
  data: Row | null;
  unique: Unique[];
  clearMembers: boolean;
  removeMembers: string[];
  addMembers: Member[];
  /** set and not the stored version: throw StorageError.preconditionFailed() */
  ifVersion: string | null;
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type LiteralType = 'null' | 'boolean' | 'integer' | 'decimal' | 'text' | 'dateTime';

/** The pushed-down filter as a tree; its paths are column names, except the reserved `members.value`. */
export type FilterNode =
  | { op: 'and' | 'or'; args: FilterNode[] }
  | { op: 'not'; arg: FilterNode }
  | { op: 'pr'; path: string }
  | { op: 'match'; path: string; arg: FilterNode }
  | { op: CompareOp; path: string; value: string | number | bigint | boolean | null; type: LiteralType; caseExact: boolean };

export interface Sort {
  path: string;
  descending: boolean;
  caseExact: boolean;
}

export interface Query {
  resourceType: string;
  /** null: every resource of the type */
  filter: FilterNode | null;
  sort: Sort | null;
  /** 1-based */
  startIndex: number;
  count: number;
  withoutMembers: boolean;
}

/**
 * What the storage did of a query; the engine does the rest. `everything`: filter, sort and paging, with
 * `total` (matches before paging); `filter-only`: all the matches in any order; `nothing`: a superset.
 */
export type Page =
  | { items: Resource[]; applied: 'everything'; total: number | bigint }
  | { items: Resource[]; applied: 'filter-only' | 'nothing'; total?: null };

/**
 * What an application implements: rows in, rows out, in its own column names (the configuration's
 * `mapping`). Throw StorageError for the expected failures; any other exception answers a SCIM 500 and is
 * logged. Calls are synchronous.
 */
export interface Storage {
  get(resourceType: string, id: string, withMembers: boolean): Resource | null;
  create(resourceType: string, row: Row, unique: Unique[], members: Member[]): Resource;
  update(change: Change): Resource;
  /** Also removes `id` from every member list. */
  delete(resourceType: string, id: string, ifVersion: string | null): void;
  search(query: Query): Page;
  /** Up to `count` members of a group from `startIndex` (1-based). */
  members(resourceType: string, id: string, startIndex: number, count: number): Member[];
  /** The principal's own resource, for `/Me`; without this method `/Me` answers 501. */
  resolvePrincipal?(principal: string): [string, string] | { resourceType: string; id: string } | null;
}

export class StorageError extends Error {
  readonly kind: 'not-found' | 'conflict' | 'precondition-failed' | 'unsupported' | 'unavailable';
  readonly detail: string;
  static notFound(): StorageError;
  /** 409; `column` is the unique column whose value is taken. */
  static conflict(column: string): StorageError;
  static preconditionFailed(): StorageError;
  static unsupported(): StorageError;
  /** 503; the detail is logged, not shown to clients. */
  static unavailable(detail: string): StorageError;
}

/** A refused configuration or mapping, or a mapper's failure. */
export class ScimError extends Error {}

export type Headers = Record<string, string | string[] | undefined> | Iterable<[string, string]>;

export class Response {
  readonly status: number;
  /** In order; a name may repeat. */
  readonly headers: Array<[string, string]>;
  readonly body: string;
  /** The first value of a header, by name without regard to case, or null. */
  header(name: string): string | null;
  /** The body as JSON; null when empty. */
  json(): any;
}

export interface ProviderOptions {
  /** Where storage failures and engine faults are logged; console.error by default. */
  log?: (line: string) => void;
  /** What the application says before each write and hears after it; none by default. */
  hooks?: Hooks | null;
}

/** A change the engine is about to make, or made. Images are SCIM resources and never hold a password. */
export interface ChangeEvent {
  resourceType: string;
  /** '' before a create is stored. */
  id: string;
  operations: Array<'create' | 'replace' | 'patch' | 'delete' | 'members-added' | 'members-removed' | 'activated' | 'deactivated'>;
  paths: string[];
  before: any | null;
  after: any | null;
  membersAdded: string[];
  membersRemoved: string[];
  membersCleared: boolean;
}

export type Verdict = null | undefined | { adjust: object } | { refuse: { status: number; detail: string; scimType?: string | null } };

/** Do-nothing hooks: extend and override what you need. A check that throws refuses the write with a 500. */
export class Hooks {
  /** Before every write: null allows it; Hooks.adjust() or Hooks.refuse() otherwise. */
  check(change: ChangeEvent): Verdict;
  /** After every successful write, with the resource's new version ('' after a delete). */
  changed(change: ChangeEvent, version: string): void;
  /** Write this SCIM resource instead (validated as a PUT body; members and the password are kept). */
  static adjust(resource: object): { adjust: object };
  /** Refuse the write: the client gets this RFC 7644 error. */
  static refuse(status: number, detail: string, scimType?: string | null): { refuse: { status: number; detail: string; scimType?: string | null } };
}

/** A SCIM service provider over the application's Storage. Keep one per configuration. */
export class Provider {
  /** @throws ScimError naming the offending key when the configuration is refused */
  constructor(config: object | string, storage: Storage, options?: ProviderOptions);
  /** Answers one request below the SCIM base; never throws for a bad request or a failing storage. */
  handle(method: string, path: string, query?: string | null, headers?: Headers | null, body?: string | Uint8Array | null,
    principal?: string | null): Response;
}

export const MEMBER_PATH: 'members.value';

export interface Membership {
  table: string;
  group: string;
  member: string;
  id: string;
}

/** A pushed-down filter as a parameterised SQL WHERE clause (node:sqlite, or any driver taking `?`). */
export class SqlFilter {
  sql: string;
  params: Array<string | number | bigint | null>;
  /** Whether `sql` selects exactly the matches (else a superset: answer `applied: 'nothing'`). */
  exact: boolean;
  constructor(columns: Record<string, string>, dialect?: 'sqlite' | 'pgsql' | 'mysql', members?: Membership | null);
  static where(filter: FilterNode | null, columns: Record<string, string>, dialect?: 'sqlite' | 'pgsql' | 'mysql',
    members?: Membership | null): SqlFilter;
  orderBy(sort: Sort | null, tieBreaker: string): string;
}

/** A pushed-down filter judged against rows in memory: a superset of the matches, exact when `decided`. */
export class RowFilter {
  decided: boolean;
  constructor(filter: FilterNode | null, columns: Iterable<string>, members?: ((id: string, memberId: string) => boolean) | null);
  mayMatch(id: string, row: Row): boolean;
}

/** A principal's directory attributes: name → values. */
export type Attributes = Record<string, string | string[]> | Array<[string, string[]]>;

export class Mapper {
  constructor(mapping: object | string);
  /** The User, then each derived Group. */
  toResources(attributes: Attributes): Array<Record<string, any>>;
  toAttributes(resource: object | string): Record<string, string[]>;
}

export interface TransportRequest {
  method: string;
  /** below the target's SCIM base */
  path: string;
  /** already percent-encoded */
  query: string;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
}

export interface TransportResponse {
  status: number;
  headers?: Array<[string, string]>;
  body?: string | Uint8Array | null;
}

/** Sends the provisioner's requests, synchronously; throwing (TransportError or any error) fails the principal. */
export interface Transport {
  send(request: TransportRequest): TransportResponse;
}

export class TransportError extends Error {
  readonly kind: 'unreachable' | 'timed-out' | 'broken';
  readonly detail: string;
  constructor(kind: 'unreachable' | 'timed-out' | 'broken', detail?: string);
}

/** A target over HTTP(S) with a bearer token, on Node's HTTP client in a worker thread; never follows redirects. */
export class HttpTransport implements Transport {
  constructor(baseUrl: string, token: string, options?: { timeoutMs?: number });
  send(request: TransportRequest): { status: number; headers: Array<[string, string]>; body: Uint8Array };
  close(): void;
}

export type Action = 'search' | 'discover' | 'create' | 'patch' | 'replace' | 'unchanged' | 'search-group' | 'read-group'
  | 'create-group' | 'add-member' | 'remove-member' | 'skipped' | 'list' | 'delete';

export interface Report {
  outcome: 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed';
  /** why, with `failed` only */
  error: string | null;
  steps: Array<{ action: Action; method: string; path: string; status: number | null; detail: string }>;
}

export class Provisioner {
  constructor(config: object | string);
  provision(service: string, attributes: Attributes, transport: Transport): Report;
}

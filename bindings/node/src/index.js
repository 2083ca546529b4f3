// scimkit for Node: the SCIM engine (a WebAssembly component, transpiled by jco) as a service provider over
// the application's own rows, a directory-attribute mapper and a provisioning client.

export { Provider } from './provider.js';
export { Hooks } from './hooks.js';
export { Response } from './response.js';
export { StorageError } from './storage-error.js';
export { ScimError } from './scim-error.js';
export { SqlFilter, MEMBER_PATH } from './sql-filter.js';
export { RowFilter } from './row-filter.js';
export { Mapper } from './mapper.js';
export { Provisioner } from './provisioner.js';
export { HttpTransport } from './http-transport.js';
export { TransportError } from './transport-error.js';

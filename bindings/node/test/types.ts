// Compiled by tsc --noEmit in test.sh: the declarations describe a storage and a provider as they are used.
import { MemoryStorage } from 'scimkit/example';
import { Hooks, Provider, SqlFilter, StorageError, type ChangeEvent, type Page, type Query, type Storage } from 'scimkit';

const memory = new MemoryStorage();
const storage: Storage = {
  get: (type, id, withMembers) => memory.get(type, id, withMembers),
  create: (type, row, unique, members) => memory.create(type, row, unique, members),
  update: (change) => memory.update(change),
  delete: (type, id, ifVersion) => memory.delete(type, id, ifVersion),
  search(q: Query): Page {
    const f = SqlFilter.where(q.filter, { username: 'username' });
    if (!f.exact) {
      throw StorageError.unavailable(f.sql);
    }
    return memory.search(q);
  },
  members: (type, id, start, count) => memory.members(type, id, start, count),
};
class Reserved extends Hooks {
  check(change: ChangeEvent) {
    return change.after?.userName === 'admin' ? Hooks.refuse(400, 'reserved', 'invalidValue') : null;
  }
}
const hooked = new Provider({ baseUrl: 'https://x/scim/v2' }, storage, { hooks: new Reserved() });
const r = new Provider({ baseUrl: 'https://x/scim/v2' }, storage).handle('GET', '/Users', 'count=1', { accept: 'application/scim+json' });
const status: number = r.status;
const etag: string | null = r.header('ETag');
export { status, etag, hooked };

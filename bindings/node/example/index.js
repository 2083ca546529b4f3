// The example application: its configuration, its in-memory storage and its HTTP server.
export { config } from './config.js';
export { MemoryStorage } from './memory-storage.js';
export { SqliteStorage } from './sqlite-storage.js';
export { BASE_PATH, exampleStorage, startServer } from './server.js';

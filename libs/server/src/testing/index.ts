/** Test helpers for @clavis/server: in-memory ports and fixtures. */
export { FixedClock } from '../shared/clock.js';
export { MemoryAuditSink } from './memory-audit.sink.js';
/** Internals that tests (not hosts) reach: the resolved settings and their resolver. */
export { resolveServerOptions } from '../options/resolve-server-options.js';
export { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
export { ClientStore } from '../clients/client.store.js';
/** Every storage port in memory: `ClavisServerModule.forRoot({ ..., storage: inMemoryStorage() })` runs without a database. */
export { inMemoryStorage, type InMemoryStorageOptions } from '../persistence/memory/in-memory-storage.js';
export { InMemoryTables, InMemoryClientStore, InMemorySigningKeyStore, InMemoryInitialAccessTokenStore, InMemoryReplayStore, InMemoryDenyList, InMemoryEncryptedValueStore } from '../persistence/memory/in-memory-stores.js';
export { InMemoryRateLimiter } from '../persistence/memory/in-memory-rate-limiter.js';

/** Test helpers for @clavis/server: in-memory ports and fixtures. */
export { FixedClock } from '../shared/clock.js';
export { MemoryAuditSink } from './memory-audit.sink.js';
/** Internals that tests (not hosts) reach: the resolved settings and their resolver. */
export { resolveServerOptions } from '../options/resolve-server-options.js';
export { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
export { keyEncryptionKeyId } from '../shared/crypto.js';
export { ClientStore } from '../clients/client.store.js';
/** Every storage port in memory: `ClavisServerModule.forRoot({ ..., storage: inMemoryStorage() })` runs without a database. */
export { inMemoryStorage, type InMemoryStorageOptions } from '../persistence/memory/in-memory-storage.js';
export {
  InMemoryTables,
  InMemoryClientStore,
  InMemorySigningKeyStore,
  InMemoryInitialAccessTokenStore,
  InMemoryReplayStore,
  InMemoryDenyList,
  InMemoryEncryptedValueStore,
} from '../persistence/memory/in-memory-stores.js';
export { InMemoryRateLimiter } from '../persistence/memory/in-memory-rate-limiter.js';
/** The storage ports and the records they hold, for tests and for writing a storage adapter. */
export { MODULE_OPTIONS_TOKEN as CLAVIS_SERVER_OPTIONS } from '../clavis-server.module-definition.js';
export { DenyList } from '../token/deny-list.js';
export { ReplayStore } from '../client-auth/replay.store.js';
export type { ClientSecretRecord } from '../clients/client.record.js';
export type { SigningKeyRecord } from '../keys/signing-key.store.js';

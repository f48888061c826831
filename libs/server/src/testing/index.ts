/** Test helpers for @clavis/server: in-memory ports and fixtures. */
export { FixedClock } from '../shared/clock.js';
export { MemoryAuditSink } from './memory-audit.sink.js';
export { InMemoryReplayStore } from './in-memory-replay.store.js';
/** Internals that tests (not hosts) reach: the resolved settings and their resolver. */
export { resolveServerOptions } from '../options/resolve-server-options.js';
export { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
export { ClientStore } from '../clients/client.store.js';

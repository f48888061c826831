/** Test helpers for @clavis/server: in-memory ports and fixtures. */
export { FixedClock } from '../shared/clock.js';
export { MemoryAuditSink } from './memory-audit.sink.js';
export { InMemoryReplayStore } from './in-memory-replay.store.js';

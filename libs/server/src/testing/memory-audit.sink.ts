import { AuditSink } from '../audit/audit.sink.js';
import type { AuditEvent } from '../audit/audit-event.js';

/** Collects audit events in memory (for tests, or to assert what was recorded). */
export class MemoryAuditSink extends AuditSink {
  readonly events: AuditEvent[] = [];
  record(event: AuditEvent): void {
    this.events.push(event);
  }
  ofType<T extends AuditEvent['type']>(type: T): Extract<AuditEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<AuditEvent, { type: T }> => e.type === type);
  }
  clear(): void {
    this.events.length = 0;
  }
}

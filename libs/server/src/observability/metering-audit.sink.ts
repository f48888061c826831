import { AuditSink } from '../audit/audit.sink.js';
import type { AuditEvent } from '../audit/audit-event.js';
import type { ClavisMetrics } from './clavis-metrics.js';

/** Counts client authentication failures by reason from the audit events, then hands each event on. */
export class MeteringAuditSink extends AuditSink {
  constructor(
    private readonly inner: AuditSink,
    private readonly metrics: ClavisMetrics,
  ) {
    super();
  }

  record(event: AuditEvent): void {
    if (event.type === 'client.authentication_failed') this.metrics.clientAuthenticationFailed(event.reason);
    this.inner.record(event);
  }
}

import { Logger } from '@nestjs/common';
import type { AuditEvent } from './audit-event.js';

/**
 * Receives audit events. Provide your own through the `auditSink` option to forward them to a SIEM,
 * a queue or a table; the default writes them to the Nest logger.
 */
export abstract class AuditSink {
  abstract record(event: AuditEvent): void;
}

/** Default sink: one structured log line per event (context `ClavisAudit`). */
export class LoggerAuditSink extends AuditSink {
  private readonly logger = new Logger('ClavisAudit');

  record(event: AuditEvent): void {
    const line = JSON.stringify(event);
    if (event.type === 'client.authentication_failed' || event.type === 'registration.denied' || event.type === 'request.failed') this.logger.warn(line);
    else this.logger.log(line);
  }
}

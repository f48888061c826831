import { Logger } from '@nestjs/common';
import type { AuditEvent } from './audit-event.js';
import { escapeLogText, escapeStrings } from './log-text.js';

/**
 * Receives audit events. Provide your own through the `auditSink` option to forward them to a SIEM,
 * a queue or a table; the default writes them to the Nest logger.
 */
export abstract class AuditSink {
  abstract record(event: AuditEvent): void;
}

/**
 * Default sink: one log line per event (context `ClavisAudit`). By default the message is the event
 * as JSON with every control character escaped; with `structured: true` the message is the event's
 * type and the event itself an `audit` field of the line (for a JSON logger such as Nest's
 * `ConsoleLogger` with `json: true`), its strings escaped the same way.
 */
export class LoggerAuditSink extends AuditSink {
  private readonly logger = new Logger('ClavisAudit');

  constructor(private readonly options: { structured?: boolean } = {}) {
    super();
  }

  record(event: AuditEvent): void {
    const warning =
      event.type === 'client.authentication_failed' ||
      event.type === 'registration.denied' ||
      event.type === 'request.failed';
    if (this.options.structured) {
      const fields = { audit: escapeStrings(event) };
      if (warning) this.logger.warn(event.type, fields);
      else this.logger.log(event.type, fields);
      return;
    }
    // JSON.stringify escapes C0 controls but leaves C1, DEL, bidi overrides and U+2028/2029 raw.
    const line = escapeLogText(JSON.stringify(event));
    if (warning) this.logger.warn(line);
    else this.logger.log(line);
  }
}

/**
 * Wraps the host's sink: events reach it with every string member escaped (no raw CR/LF/ESC from a
 * request or from client metadata), whatever the host then writes them to. ADR 0012.
 */
export class EscapingAuditSink extends AuditSink {
  constructor(private readonly inner: AuditSink) {
    super();
  }

  record(event: AuditEvent): void {
    this.inner.record(escapeStrings(event));
  }
}

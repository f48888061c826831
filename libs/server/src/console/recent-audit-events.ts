import { Injectable } from '@nestjs/common';
import { AuditSink } from '../audit/audit.sink.js';
import type { AuditEvent } from '../audit/audit-event.js';
import { Clock } from '../shared/clock.js';

/** An audit event as the console shows it, with the time it was recorded (seconds). */
export interface RecordedAuditEvent {
  at: number;
  event: AuditEvent;
}

/** Events kept per client, and clients kept (the least recently recorded goes first). */
const PER_CLIENT = 25;
const MAX_CLIENTS = 5_000;
const RECENT = 100;

/**
 * A bounded in-memory ring of this instance's recent audit events, per client and overall, for
 * the console (Clavis stores no audit log: the host's sink does; docs/adr/0025-operator-console.md).
 * Bounded in every dimension: an attacker naming arbitrary client ids in failed authentications
 * only pushes out older entries.
 */
@Injectable()
export class RecentAuditEvents extends AuditSink {
  private readonly byClient = new Map<string, RecordedAuditEvent[]>();
  private readonly recent: RecordedAuditEvent[] = [];

  constructor(private readonly clock: Clock) {
    super();
  }

  record(event: AuditEvent): void {
    const entry = { at: this.clock.nowSeconds(), event };
    this.recent.push(entry);
    if (this.recent.length > RECENT) this.recent.shift();
    const clientId = 'clientId' in event ? event.clientId : undefined;
    if (typeof clientId !== 'string') return;
    const list = this.byClient.get(clientId) ?? [];
    this.byClient.delete(clientId);
    list.push(entry);
    if (list.length > PER_CLIENT) list.shift();
    this.byClient.set(clientId, list);
    if (this.byClient.size > MAX_CLIENTS) this.byClient.delete(this.byClient.keys().next().value!);
  }

  /** A client's recent events, newest first. */
  forClient(clientId: string): RecordedAuditEvent[] {
    return [...(this.byClient.get(clientId) ?? [])].reverse();
  }

  /** The recent events of every kind, newest first. */
  latest(): RecordedAuditEvent[] {
    return [...this.recent].reverse();
  }
}

/** Hands each event to several sinks (the host's and the console's ring). */
export class TeeAuditSink extends AuditSink {
  constructor(private readonly sinks: readonly AuditSink[]) {
    super();
  }

  record(event: AuditEvent): void {
    for (const sink of this.sinks) sink.record(event);
  }
}

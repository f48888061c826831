import { Injectable } from '@nestjs/common';
import {
  CredentialNoticeStore,
  type CredentialNotice,
  type ExpiringCredential,
} from '../../expiry/credential-notice.store.js';
import { TranslatesDriverFailures } from '../storage.js';
import { isDatabaseOutage } from './driver-failures.js';
import type { HotPathSql } from './hot-path-sql.js';
import { TypeOrmConnection } from './typeorm-connection.js';

const SECRETS = `SELECT id, client_id, expires_at, retires_at FROM clavis_client_secret
  WHERE (expires_at IS NOT NULL AND expires_at BETWEEN ? AND ?) OR (retires_at IS NOT NULL AND retires_at BETWEEN ? AND ?)`;
const TOKENS = `SELECT id, expires_at FROM clavis_initial_access_token
  WHERE expires_at IS NOT NULL AND expires_at BETWEEN ? AND ? AND (uses_remaining IS NULL OR uses_remaining > 0)`;
const INSERT_ONCE = `INSERT INTO clavis_credential_notice
  (id, credential_key, kind, lead, payload, created_at, attempts, next_attempt_at, delivered_at, last_error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (credential_key, kind, lead) DO NOTHING`;
const DUE = `SELECT * FROM clavis_credential_notice WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?
  ORDER BY next_attempt_at LIMIT ?`;
const CLAIM = `UPDATE clavis_credential_notice SET next_attempt_at = ? WHERE id = ? AND next_attempt_at = ?`;
const ATTEMPTED = `UPDATE clavis_credential_notice SET attempts = ?, next_attempt_at = ?, delivered_at = ?, last_error = ?
  WHERE id = ?`;
const FOR_CREDENTIAL = `SELECT * FROM clavis_credential_notice WHERE credential_key = ? ORDER BY created_at, lead DESC`;

type Row = Record<string, string | number | null>;
const num = (v: string | number | null) => (v === null ? null : Number(v));

function toNotice(r: Row): CredentialNotice {
  return {
    id: r.id as string,
    credentialKey: r.credential_key as string,
    kind: r.kind as CredentialNotice['kind'],
    lead: Number(r.lead),
    payload: r.payload as string,
    createdAt: Number(r.created_at),
    attempts: Number(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    deliveredAt: num(r.delivered_at),
    lastError: r.last_error as string | null,
  };
}

@Injectable()
@TranslatesDriverFailures('database', isDatabaseOutage)
export class TypeOrmCredentialNoticeStore extends CredentialNoticeStore {
  private readonly sql: HotPathSql;

  constructor(connection: TypeOrmConnection) {
    super();
    this.sql = connection.sql;
  }

  async expiringBetween(from: number, to: number): Promise<ExpiringCredential[]> {
    const secrets = await this.sql.all<Row>(SECRETS, [from, to, from, to]);
    const tokens = await this.sql.all<Row>(TOKENS, [from, to]);
    return [
      ...secrets.map((s) => {
        const expires = num(s.expires_at);
        const retires = num(s.retires_at);
        return {
          type: 'client_secret' as const,
          id: s.id as string,
          clientId: s.client_id as string,
          status: retires === null ? ('current' as const) : ('previous' as const),
          expiresAt: Math.min(expires ?? Number.MAX_SAFE_INTEGER, retires ?? Number.MAX_SAFE_INTEGER),
        };
      }),
      ...tokens.map((t) => ({
        type: 'initial_access_token' as const,
        id: t.id as string,
        expiresAt: Number(t.expires_at),
      })),
    ];
  }

  async insertOnce(n: CredentialNotice): Promise<boolean> {
    const changed = await this.sql.run(INSERT_ONCE, [
      n.id,
      n.credentialKey,
      n.kind,
      n.lead,
      n.payload,
      n.createdAt,
      n.attempts,
      n.nextAttemptAt,
      n.deliveredAt,
      n.lastError,
    ]);
    return changed === 1;
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<CredentialNotice[]> {
    const won: CredentialNotice[] = [];
    for (const row of await this.sql.all<Row>(DUE, [now, limit])) {
      if ((await this.sql.run(CLAIM, [leaseUntil, row.id, row.next_attempt_at])) === 1)
        won.push({ ...toNotice(row), nextAttemptAt: leaseUntil });
    }
    return won;
  }

  async attempted(
    id: string,
    r: { attempts: number; nextAttemptAt: number | null; deliveredAt: number | null; lastError: string | null },
  ): Promise<void> {
    await this.sql.run(ATTEMPTED, [r.attempts, r.nextAttemptAt, r.deliveredAt, r.lastError?.slice(0, 255) ?? null, id]);
  }

  async forCredential(credentialKey: string): Promise<CredentialNotice[]> {
    return (await this.sql.all<Row>(FOR_CREDENTIAL, [credentialKey])).map(toNotice);
  }
}

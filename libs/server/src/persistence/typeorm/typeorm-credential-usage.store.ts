import { Injectable } from '@nestjs/common';
import type { CredentialType, CredentialUsageRecord } from '../../usage/credential-usage.js';
import { CredentialUsageStore } from '../../usage/credential-usage.store.js';
import { TranslatesDriverFailures } from '../storage.js';
import { isDatabaseOutage } from './driver-failures.js';
import type { HotPathSql } from './hot-path-sql.js';
import { TypeOrmConnection } from './typeorm-connection.js';

/**
 * One upsert per credential that merges into whatever other instances wrote (SQLite ≥ 3.24 and
 * PostgreSQL alike): counts add, the later use wins with its address, the first use stays first.
 * In an `ON CONFLICT … DO UPDATE`, every expression reads the row as it was before the update.
 */
const UPSERT = `INSERT INTO clavis_credential_usage
  (client_id, credential_type, credential_id, first_used_at, last_used_at, use_count, last_address)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (client_id, credential_type, credential_id) DO UPDATE SET
    use_count = clavis_credential_usage.use_count + excluded.use_count,
    last_address = CASE WHEN excluded.last_used_at >= clavis_credential_usage.last_used_at
      THEN excluded.last_address ELSE clavis_credential_usage.last_address END,
    last_used_at = CASE WHEN excluded.last_used_at > clavis_credential_usage.last_used_at
      THEN excluded.last_used_at ELSE clavis_credential_usage.last_used_at END,
    first_used_at = CASE WHEN excluded.first_used_at < clavis_credential_usage.first_used_at
      THEN excluded.first_used_at ELSE clavis_credential_usage.first_used_at END`;

const FOR_CLIENT = `SELECT credential_type, credential_id, first_used_at, last_used_at, use_count, last_address
  FROM clavis_credential_usage WHERE client_id = ?`;

const PURGE_ORPHANS = `DELETE FROM clavis_credential_usage
  WHERE NOT EXISTS (SELECT 1 FROM clavis_client c WHERE c.client_id = clavis_credential_usage.client_id)`;

interface UsageRow {
  credential_type: string;
  credential_id: string;
  first_used_at: string | number;
  last_used_at: string | number;
  use_count: string | number;
  last_address: string | null;
}

@Injectable()
@TranslatesDriverFailures('database', isDatabaseOutage)
export class TypeOrmCredentialUsageStore extends CredentialUsageStore {
  private readonly sql: HotPathSql;

  constructor(connection: TypeOrmConnection) {
    super();
    this.sql = connection.sql;
  }

  async add(deltas: readonly CredentialUsageRecord[]): Promise<void> {
    // Grouped: on SQLite the upserts of one flush commit together; on PostgreSQL each is its own statement.
    await Promise.all(
      deltas.map((d) =>
        this.sql.runGrouped(UPSERT, [
          d.clientId,
          d.type,
          d.credentialId,
          d.firstUsedAt,
          d.lastUsedAt,
          d.useCount,
          d.lastAddress?.slice(0, 64) ?? null,
        ]),
      ),
    );
  }

  async forClient(clientId: string): Promise<CredentialUsageRecord[]> {
    const rows = await this.sql.all<UsageRow>(FOR_CLIENT, [clientId]);
    return rows.map((r) => ({
      clientId,
      type: r.credential_type as CredentialType,
      credentialId: r.credential_id,
      firstUsedAt: Number(r.first_used_at),
      lastUsedAt: Number(r.last_used_at),
      useCount: Number(r.use_count),
      lastAddress: r.last_address,
    }));
  }

  purgeOrphans(): Promise<number> {
    return this.sql.run(PURGE_ORPHANS, []);
  }
}

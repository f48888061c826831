import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochSeconds } from './columns.js';

/** Successful authentications per credential, summed over every instance (docs/adr/0024). */
@Entity({ name: 'clavis_credential_usage' })
export class CredentialUsageEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 }) clientId: string;
  @PrimaryColumn({ name: 'credential_type', type: 'varchar', length: 32 }) type: string;
  @PrimaryColumn({ name: 'credential_id', type: 'varchar', length: 128 }) credentialId: string;
  @Column({ name: 'first_used_at', type: 'bigint', transformer: epochSeconds }) firstUsedAt: number;
  @Column({ name: 'last_used_at', type: 'bigint', transformer: epochSeconds }) lastUsedAt: number;
  @Column({ name: 'use_count', type: 'bigint', transformer: epochSeconds }) useCount: number;
  @Column({ name: 'last_address', type: 'varchar', length: 64, nullable: true }) lastAddress: string | null;
}

/**
 * One expiry notice: the ledger entry whose unique key (credential, kind, lead) makes it go out once,
 * and its webhook delivery state (the outbox).
 */
@Entity({ name: 'clavis_credential_notice' })
@Index('idx_clavis_credential_notice_once', ['credentialKey', 'kind', 'lead'], { unique: true })
@Index('idx_clavis_credential_notice_due', ['nextAttemptAt'])
export class CredentialNoticeEntity {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 40 }) id: string;
  @Column({ name: 'credential_key', type: 'varchar', length: 160 }) credentialKey: string;
  @Column({ name: 'kind', type: 'varchar', length: 16 }) kind: string;
  @Column({ name: 'lead', type: 'integer' }) lead: number;
  @Column({ name: 'payload', type: 'text' }) payload: string;
  @Column({ name: 'created_at', type: 'bigint', transformer: epochSeconds }) createdAt: number;
  @Column({ name: 'attempts', type: 'integer' }) attempts: number;
  @Column({ name: 'next_attempt_at', type: 'bigint', nullable: true, transformer: epochSeconds })
  nextAttemptAt: number | null;
  @Column({ name: 'delivered_at', type: 'bigint', nullable: true, transformer: epochSeconds })
  deliveredAt: number | null;
  @Column({ name: 'last_error', type: 'varchar', length: 255, nullable: true }) lastError: string | null;
}

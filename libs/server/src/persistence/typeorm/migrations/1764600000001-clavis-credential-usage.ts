import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

const col = (name: string, type: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
  name,
  type,
  isNullable: false,
  ...opts,
});

/**
 * Per-credential usage and the expiry-notice ledger with its webhook outbox
 * (docs/adr/0024-credential-usage-and-expiry-notices.md). New tables only: nothing existing changes.
 */
export class ClavisCredentialUsage1764600000001 implements MigrationInterface {
  name = 'ClavisCredentialUsage1764600000001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'clavis_credential_usage',
        columns: [
          col('client_id', 'varchar', { length: '64', isPrimary: true }),
          col('credential_type', 'varchar', { length: '32', isPrimary: true }),
          col('credential_id', 'varchar', { length: '128', isPrimary: true }),
          col('first_used_at', 'bigint'),
          col('last_used_at', 'bigint'),
          col('use_count', 'bigint'),
          col('last_address', 'varchar', { length: '64', isNullable: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'clavis_credential_notice',
        columns: [
          col('id', 'varchar', { length: '40', isPrimary: true }),
          col('credential_key', 'varchar', { length: '160' }),
          col('kind', 'varchar', { length: '16' }),
          col('lead', 'integer'),
          col('payload', 'text'),
          col('created_at', 'bigint'),
          col('attempts', 'integer'),
          col('next_attempt_at', 'bigint', { isNullable: true }),
          col('delivered_at', 'bigint', { isNullable: true }),
          col('last_error', 'varchar', { length: '255', isNullable: true }),
        ],
        indices: [
          new TableIndex({
            name: 'idx_clavis_credential_notice_once',
            columnNames: ['credential_key', 'kind', 'lead'],
            isUnique: true,
          }),
          new TableIndex({ name: 'idx_clavis_credential_notice_due', columnNames: ['next_attempt_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('clavis_credential_notice');
    await q.dropTable('clavis_credential_usage');
  }
}

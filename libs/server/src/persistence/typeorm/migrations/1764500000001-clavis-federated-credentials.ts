import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Federated credentials (docs/adr/0022): on the client, its list (JSON text, read with the client on
 * the hot path); and `clavis_federated_credential`, one row per identity, whose primary key — the
 * SHA-256 of issuer and subject — makes an identity unique across clients in the database itself, and
 * finds the client of a JWT-SVID presented without `client_id`. Existing clients hold none.
 */
export class ClavisFederatedCredentials1764500000001 implements MigrationInterface {
  name = 'ClavisFederatedCredentials1764500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "clavis_client" ADD COLUMN "federated_credentials" text NULL`);
    await q.createTable(
      new Table({
        name: 'clavis_federated_credential',
        columns: [
          { name: 'credential_key', type: 'varchar', length: '64', isPrimary: true },
          { name: 'client_id', type: 'varchar', length: '64' },
          { name: 'issuer', type: 'varchar', length: '2048' },
          { name: 'subject', type: 'varchar', length: '2048' },
        ],
      }),
    );
    await q.createIndex(
      'clavis_federated_credential',
      new TableIndex({ name: 'idx_clavis_federated_credential_client', columnNames: ['client_id'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('clavis_federated_credential');
    await q.query(`ALTER TABLE "clavis_client" DROP COLUMN "federated_credentials"`);
  }
}

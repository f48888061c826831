import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

const str = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});
const text = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'text',
  isNullable: nullable,
});
const epoch = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'bigint',
  isNullable: nullable,
});
const int = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'integer',
  isNullable: nullable,
});
const pk = (c: TableColumnOptions): TableColumnOptions => ({
  ...c,
  isPrimary: true,
});

/** Creates every Clavis table. Written with TypeORM's schema API so it runs on SQLite and PostgreSQL alike. */
export class ClavisInitial1764200000000 implements MigrationInterface {
  name = 'ClavisInitial1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'clavis_client',
        columns: [
          pk(str('client_id', 64)),
          str('client_name', 255, true),
          str('token_endpoint_auth_method', 32),
          str('token_endpoint_auth_signing_alg', 16, true),
          text('grant_types'),
          text('scope'),
          text('resources'),
          text('jwks', true),
          str('jwks_uri', 2048, true),
          text('contacts'),
          str('client_uri', 2048, true),
          str('software_id', 255, true),
          str('software_version', 255, true),
          str('registration_access_token_hash', 64, true),
          epoch('client_id_issued_at'),
          epoch('updated_at'),
          int('version'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'clavis_client_secret',
        columns: [
          pk(str('id', 32)),
          str('client_id', 64),
          str('secret_hash', 64, true),
          text('secret_encrypted', true),
          epoch('created_at'),
          epoch('expires_at', true),
          epoch('retires_at', true),
        ],
        foreignKeys: [
          {
            columnNames: ['client_id'],
            referencedTableName: 'clavis_client',
            referencedColumnNames: ['client_id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [
          {
            name: 'idx_clavis_client_secret_client',
            columnNames: ['client_id'],
          },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'clavis_used_jti',
        columns: [pk(str('client_id', 64)), pk(str('jti_hash', 64)), epoch('expires_at')],
        indices: [{ name: 'idx_clavis_used_jti_expires', columnNames: ['expires_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'clavis_revoked_token',
        columns: [pk(str('jti', 64)), epoch('expires_at')],
        indices: [
          {
            name: 'idx_clavis_revoked_token_expires',
            columnNames: ['expires_at'],
          },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'clavis_initial_access_token',
        columns: [
          pk(str('id', 32)),
          str('token_hash', 64),
          str('description', 255, true),
          epoch('created_at'),
          epoch('expires_at', true),
          int('uses_remaining', true),
        ],
        indices: [
          {
            name: 'idx_clavis_iat_hash',
            columnNames: ['token_hash'],
            isUnique: true,
          },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'clavis_signing_key',
        columns: [
          pk(str('kid', 64)),
          str('alg', 16),
          str('state', 16),
          text('public_jwk'),
          text('private_jwk_encrypted'),
          epoch('created_at'),
          epoch('activated_at', true),
          epoch('retired_at', true),
          epoch('remove_at', true),
        ],
      }),
    );
    // The database guarantees a single active key and a single next key, whatever several instances try at once.
    await q.createIndex(
      'clavis_signing_key',
      new TableIndex({
        name: 'idx_clavis_signing_key_one_per_state',
        columnNames: ['state'],
        isUnique: true,
        where: "state <> 'retired'",
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'clavis_signing_key',
      'clavis_initial_access_token',
      'clavis_revoked_token',
      'clavis_used_jti',
      'clavis_client_secret',
      'clavis_client',
    ])
      await q.dropTable(t, true);
  }
}

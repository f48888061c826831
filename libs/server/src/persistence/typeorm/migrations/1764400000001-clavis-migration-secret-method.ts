import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The method a client secret still serves after its client moved to a method without a secret
 * (docs/adr/0021-migration-between-authentication-methods.md). A nullable column added with a plain
 * `ALTER TABLE … ADD COLUMN`, which SQLite and PostgreSQL both run in place; existing secrets get
 * null (they serve their client's own method).
 */
export class ClavisMigrationSecretMethod1764400000001 implements MigrationInterface {
  name = 'ClavisMigrationSecretMethod1764400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "clavis_client_secret" ADD COLUMN "method" varchar(32) NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "clavis_client_secret" DROP COLUMN "method"`);
  }
}

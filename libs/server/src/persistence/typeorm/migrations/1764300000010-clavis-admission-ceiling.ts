import type { MigrationInterface, QueryRunner } from 'typeorm';

const CLIENT_COLUMNS = ['max_scope', 'max_resources', 'allowed_methods'];
const TOKEN_COLUMNS = ['allowed_scope', 'allowed_resources', 'allowed_methods'];

/**
 * The admission ceiling (docs/adr/0010-authorisation-at-the-write-and-admission-ceiling.md): on
 * clients, what they may hold; on initial access tokens, the optional policy that becomes the
 * ceiling of the clients they admit. Nullable text columns (lists as JSON), added with plain
 * `ALTER TABLE … ADD COLUMN`, which SQLite and PostgreSQL both run in place. Clients registered
 * before get the ceiling of what they hold now, so no existing client can widen itself afterwards.
 */
export class ClavisAdmissionCeiling1764300000010 implements MigrationInterface {
  name = 'ClavisAdmissionCeiling1764300000010';

  async up(q: QueryRunner): Promise<void> {
    for (const c of CLIENT_COLUMNS) await q.query(`ALTER TABLE "clavis_client" ADD COLUMN "${c}" text NULL`);
    for (const c of TOKEN_COLUMNS)
      await q.query(`ALTER TABLE "clavis_initial_access_token" ADD COLUMN "${c}" text NULL`);
    await q.query(`UPDATE "clavis_client" SET "max_scope" = "scope", "max_resources" = "resources"`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of TOKEN_COLUMNS) await q.query(`ALTER TABLE "clavis_initial_access_token" DROP COLUMN "${c}"`);
    for (const c of CLIENT_COLUMNS) await q.query(`ALTER TABLE "clavis_client" DROP COLUMN "${c}"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The client change counter (docs/adr/0027-cross-instance-client-cache.md): one row whose `counter`
 * every write to a client or its secrets increments in its own transaction, on PostgreSQL. Instances
 * that cache clients compare it with what their change notifications told them, at least once per
 * staleness bound, and empty their cache when it moved without them hearing of it. Created on SQLite
 * too (one schema), where it stays at 0.
 */
export class ClavisClientChangeCounter1764700000001 implements MigrationInterface {
  name = 'ClavisClientChangeCounter1764700000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "clavis_client_change" ("id" integer PRIMARY KEY NOT NULL, "counter" bigint NOT NULL)`);
    await q.query(`INSERT INTO "clavis_client_change" ("id", "counter") VALUES (1, 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "clavis_client_change"`);
  }
}

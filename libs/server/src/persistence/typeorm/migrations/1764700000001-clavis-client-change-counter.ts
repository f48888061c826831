import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The client change counter (docs/adr/0027-cross-instance-client-cache.md): one row whose `counter`
 * moves on with every row written to `clavis_client` or `clavis_client_secret`. On PostgreSQL a
 * trigger does it, in the writing transaction, and notifies `<client id> <counter>` on the channel
 * `clavis_client_change` (delivered on commit): whoever writes — any instance, any version of
 * Clavis, the operator CLI, an operator's SQL — every instance hears of it. Instances that cache
 * clients compare the counter with what the notifications told them at least once per staleness
 * bound. Created on SQLite too (one schema), where it stays at 0.
 */
export class ClavisClientChangeCounter1764700000001 implements MigrationInterface {
  name = 'ClavisClientChangeCounter1764700000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "clavis_client_change" ("id" integer PRIMARY KEY NOT NULL, "counter" bigint NOT NULL)`);
    await q.query(`INSERT INTO "clavis_client_change" ("id", "counter") VALUES (1, 0)`);
    if (q.connection.options.type !== 'postgres') return;
    await q.query(`CREATE FUNCTION clavis_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text;
  n bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN changed := OLD.client_id; ELSE changed := NEW.client_id; END IF;
  INSERT INTO clavis_client_change (id, counter) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET counter = clavis_client_change.counter + 1
    RETURNING counter INTO n;
  PERFORM pg_notify('clavis_client_change', changed || ' ' || n);
  RETURN NULL;
END $$`);
    for (const table of ['clavis_client', 'clavis_client_secret'])
      await q.query(
        `CREATE TRIGGER ${table}_changed AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION clavis_client_changed()`,
      );
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type === 'postgres') {
      for (const table of ['clavis_client', 'clavis_client_secret'])
        await q.query(`DROP TRIGGER IF EXISTS ${table}_changed ON "${table}"`);
      await q.query(`DROP FUNCTION IF EXISTS clavis_client_changed()`);
    }
    await q.query(`DROP TABLE "clavis_client_change"`);
  }
}

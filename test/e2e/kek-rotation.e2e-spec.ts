import { createCipheriv, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FixedClock, KeyEncryption, KeyEncryptionKeyMismatchError, KeyEncryptionService } from '@clavis/server';
import { basicToken, hmacToken, kekId, newKek, ownDatabase, type OwnDatabase } from '../support/kek.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

/**
 * Rotation of the key-encryption key (ADR 0013), on SQLite or on PostgreSQL (DATABASE_URL: a schema
 * of the test's own, since the other files' data is under TEST_KEK): a wrong key stops the boot
 * with one line; "B,A" reads everything written under A and writes under B; re-encryption leaves
 * nothing under A; then "B" alone boots.
 */
describe(`key-encryption key: a clear failure, and rotation (${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  let db: OwnDatabase;
  const apps: TestApp[] = [];
  const start = Date.now();
  // One port (so one issuer) for every boot: tokens from before a restart stay valid after it.
  let port: number;
  const boot = async (kek: string) => {
    port ??= await freePort();
    const t = await createTestApp({ port, env: { ...db.env, CLAVIS_KEK: kek }, clock: new FixedClock(start) });
    apps.push(t);
    return t;
  };
  const closeAll = async () => {
    for (const t of apps.splice(0)) await t.close();
  };
  const ciphertexts = async () => [
    ...(await db.query<{ c: string }>('SELECT private_jwk_encrypted AS c FROM clavis_signing_key')).map((r) => r.c),
    ...(
      await db.query<{ c: string }>(
        'SELECT secret_encrypted AS c FROM clavis_client_secret WHERE secret_encrypted IS NOT NULL',
      )
    ).map((r) => r.c),
  ];
  const guarded = (t: TestApp, token: string) =>
    fetch(`${t.baseUrl}/statements`, { headers: { authorization: `Bearer ${token}` } });

  afterEach(async () => {
    await closeAll();
    await db?.drop();
  });

  it('a wrong key-encryption key: the boot rejects with one line naming the key id the data needs, the configured one and the ways out — never a key', async () => {
    db = await ownDatabase();
    const [A, B] = [newKek(), newKek()];
    const t = await boot(A);
    await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    await closeAll();

    const error = await boot(B).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyEncryptionKeyMismatchError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(
      /^the stored data was encrypted with another key-encryption key: (signing_key|client_secret):\S+ is under key-encryption key [0-9a-f]{16}, but the configured keyEncryptionKey holds [0-9a-f]{16} \(current\)\. Configure the key with id [0-9a-f]{16} \(as the current key, or as a previous key after the current one\), or start from an empty database\.$/,
    );
    expect(message).toContain(kekId(A));
    expect(message).toContain(kekId(B));
    for (const k of [A, B, Buffer.from(A, 'base64url').toString('hex')]) expect(message).not.toContain(k);
    expect((error as KeyEncryptionKeyMismatchError).dataKeyId).toBe(kekId(A));

    // The right key still boots: nothing was changed by the failed attempt.
    const again = await boot(A);
    expect((await again.app.get(KeyEncryptionService).status()).pending).toBe(0);
  });

  it('rotation: data under A; "B,A" reads all of it and writes under B; re-encryption leaves 0 under A; "B" alone then boots and serves', async () => {
    db = await ownDatabase();
    const [A, B] = [newKek(), newKek()];
    const [idA, idB] = [kekId(A), kekId(B)];

    // 1. Everything written under A.
    let t = await boot(A);
    const jwt = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    const sec = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const tokenUnderA = (await basicToken(t, sec.clientId, sec.clientSecret)).json.access_token as string;
    expect((await hmacToken(t, jwt.clientId, jwt.clientSecret)).status).toBe(200);
    expect((await ciphertexts()).every((c) => c.startsWith(`v2.${idA}.`))).toBe(true);
    await closeAll();

    // 2. "B,A": everything readable; new values under B.
    t = await boot(`${B},${A}`);
    const service = t.app.get(KeyEncryptionService);
    expect(await service.status()).toEqual({
      currentKeyId: idB,
      keys: [
        { keyId: idB, role: 'current', values: 0 },
        { keyId: idA, role: 'previous', values: 2 },
      ],
      withoutKeyId: 0,
      pending: 2,
      unknown: [],
      total: 2,
    });
    expect((await hmacToken(t, jwt.clientId, jwt.clientSecret)).status).toBe(200);
    expect((await basicToken(t, sec.clientId, sec.clientSecret)).status).toBe(200);
    expect((await guarded(t, tokenUnderA)).status).toBe(200);
    const jwt2 = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    expect((await hmacToken(t, jwt2.clientId, jwt2.clientSecret)).status).toBe(200);
    await t.keys.rotate({ force: true });
    const after = await basicToken(t, sec.clientId, sec.clientSecret);
    expect((await guarded(t, after.json.access_token)).status).toBe(200);
    const mid = await service.status();
    expect(mid.keys).toEqual([
      { keyId: idB, role: 'current', values: 2 },
      { keyId: idA, role: 'previous', values: 2 },
    ]);

    // 3. Re-encryption: nothing left under A; everything still works.
    const result = await service.reEncrypt();
    expect(result).toMatchObject({ reEncrypted: 2, changedMeanwhile: 0, unreadable: 0 });
    expect(result.status.pending).toBe(0);
    expect(result.status.keys).toEqual([
      { keyId: idB, role: 'current', values: 4 },
      { keyId: idA, role: 'previous', values: 0 },
    ]);
    expect((await ciphertexts()).every((c) => c.startsWith(`v2.${idB}.`))).toBe(true);
    expect((await service.reEncrypt()).reEncrypted).toBe(0);
    await closeAll();

    // 4. "B" alone: boots, and every client and token still works.
    t = await boot(B);
    for (const c of [jwt, jwt2]) expect((await hmacToken(t, c.clientId, c.clientSecret)).status).toBe(200);
    const last = await basicToken(t, sec.clientId, sec.clientSecret);
    expect(last.status).toBe(200);
    expect((await guarded(t, last.json.access_token)).status).toBe(200);
    expect((await guarded(t, tokenUnderA)).status).toBe(200);
    await closeAll();

    // And A alone no longer does: the data has moved to B.
    await expect(boot(A)).rejects.toThrow(
      new RegExp(`is under key-encryption key ${idB}, but the configured keyEncryptionKey holds ${idA} \\(current\\)`),
    );
  });

  it('values written before key ids (no id in the value) stay readable under "A" and under "B,A"; re-encryption gives them the current key id', async () => {
    db = await ownDatabase();
    const [A, B] = [newKek(), newKek()];
    let t = await boot(A);
    const jwt = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    await closeAll();

    // Rewrite every value as the release before key ids wrote it: v1.<iv>.<ct>.<tag>, under A.
    const kekA = new KeyEncryption(A);
    const legacy = (value: string, context: string) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', Buffer.from(A, 'base64url'), iv);
      c.setAAD(Buffer.from(context, 'utf8'));
      const ct = Buffer.concat([c.update(kekA.decrypt(value, context), 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
    };
    for (const k of await db.query<{ kid: string; c: string }>(
      'SELECT kid, private_jwk_encrypted AS c FROM clavis_signing_key',
    ))
      await db.query('UPDATE clavis_signing_key SET private_jwk_encrypted = $1 WHERE kid = $2', [
        legacy(k.c, `signing_key:${k.kid}`),
        k.kid,
      ]);
    for (const s of await db.query<{ id: string; client_id: string; c: string }>(
      'SELECT id, client_id, secret_encrypted AS c FROM clavis_client_secret WHERE secret_encrypted IS NOT NULL',
    ))
      await db.query('UPDATE clavis_client_secret SET secret_encrypted = $1 WHERE id = $2', [
        legacy(s.c, `client_secret:${s.client_id}:${s.id}`),
        s.id,
      ]);
    expect((await ciphertexts()).every((c) => c.startsWith('v1.'))).toBe(true);

    t = await boot(A);
    expect((await hmacToken(t, jwt.clientId, jwt.clientSecret)).status).toBe(200);
    expect(await t.app.get(KeyEncryptionService).status()).toMatchObject({
      withoutKeyId: 2,
      pending: 2,
      keys: [{ keyId: kekId(A), values: 2 }],
    });
    await closeAll();

    t = await boot(`${B},${A}`);
    expect((await hmacToken(t, jwt.clientId, jwt.clientSecret)).status).toBe(200);
    const result = await t.app.get(KeyEncryptionService).reEncrypt();
    expect(result.reEncrypted).toBe(2);
    expect(result.status).toMatchObject({ withoutKeyId: 0, pending: 0 });
    expect((await ciphertexts()).every((c) => c.startsWith(`v2.${kekId(B)}.`))).toBe(true);
    await closeAll();

    t = await boot(B);
    expect((await hmacToken(t, jwt.clientId, jwt.clientSecret)).status).toBe(200);
  });
});

import { execFile, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../support/requirements.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Python's authlib (Debian's python3-authlib, run with the system interpreter) as the client of a
 * real running Clavis: client_secret_jwt and private_key_jwt with authlib's defaults, which sign
 * `iat` = now and `exp` = now + 3600. Clavis bounds an assertion's life by `iat`, so these are
 * accepted (docs/adr/0011-one-key-per-assertion.md). The only non-default is the audience: authlib
 * puts its first argument into `aud`, and Clavis wants the issuer identifier there.
 *
 * Without python3-authlib the suite is skipped with a warning, except on a CI pass that requires it
 * (`needs('python-authlib')`): there it fails.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'authlib_client.py');
const probe = spawnSync(PYTHON, ['-c', 'import authlib, requests; print(authlib.__version__)'], { encoding: 'utf8' });
const version = probe.status === 0 ? probe.stdout.trim() : undefined;

describe(`interop: Python authlib ${version ?? ''} against Clavis`, needs('python-authlib'), () => {
  let t: TestApp;
  let pemPath: string;
  let jwtClient: { clientId: string; clientSecret: string };
  let pkClient: { clientId: string };

  beforeAll(async () => {
    t = await createTestApp();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    pemPath = join(mkdtempSync(join(tmpdir(), 'clavis-authlib-')), 'key.pem');
    writeFileSync(pemPath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    jwtClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    pkClient = await createClient(t, {
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), use: 'sig' }] },
    });
  });
  afterAll(async () => t?.close());

  const authlib = (method: string, clientId: string, credential: string) =>
    new Promise<{ code: number; out: any; stderr: string }>((resolve) => {
      execFile(
        PYTHON,
        [SCRIPT, t.issuer, t.tokenEndpoint, method, clientId, credential],
        { timeout: 20_000 },
        (error, stdout, stderr) => {
          let out: any;
          try {
            out = JSON.parse(stdout);
          } catch {
            out = stdout;
          }
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, stderr });
        },
      );
    });

  const expectToken = async (method: string, clientId: string, credential: string) => {
    // The Python client signs with the wall clock; the app's fixed clock must agree within the skew.
    t.clock.set(Date.now());
    const res = await authlib(method, clientId, credential);
    expect(res.code, `${JSON.stringify(res.out)} ${res.stderr}`).toBe(0);
    expect(res.out.token).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'statements:read' });
    expect(typeof res.out.token.access_token).toBe('string');
    // authlib's defaults, unchanged: an hour between iat and exp.
    expect(res.out.claims.exp - res.out.claims.iat).toBe(3600);
    expect(res.out.claims.aud).toBe(t.issuer);
    const access = await fetch(`${t.baseUrl}/statements`, {
      headers: { authorization: `Bearer ${res.out.token.access_token}` },
    });
    expect(access.status).toBe(200);
  };

  it('client_secret_jwt (HS256), authlib defaults: a token', async () =>
    expectToken('client_secret_jwt', jwtClient.clientId, jwtClient.clientSecret));

  it('private_key_jwt (RS256), authlib defaults: a token', async () =>
    expectToken('private_key_jwt', pkClient.clientId, pemPath));

  it('the wrong secret: authlib reports invalid_client', async () => {
    t.clock.set(Date.now());
    const res = await authlib('client_secret_jwt', jwtClient.clientId, 'x'.repeat(64));
    expect(res.code).toBe(1);
    expect(JSON.stringify(res.out)).toMatch(/invalid_client/);
  });
});

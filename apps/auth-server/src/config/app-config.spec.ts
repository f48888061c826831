import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError, loadConfig } from './app-config.js';

const KEK = Buffer.alloc(32, 3).toString('base64url');

describe('loadConfig (environment → settings)', () => {
  it('zero configuration: port 3000, issuer http://localhost:3000, SQLite under DATA_DIR, a generated development KEK kept in a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clavis-cfg-'));
    const c = loadConfig({ DATA_DIR: dir });
    expect(c).toMatchObject({
      port: 3000,
      issuer: 'http://localhost:3000',
      requestTimeout: 10,
      production: false,
      database: { type: 'sqlite', path: `${dir}/clavis.sqlite` },
    });
    expect(c.kek.source).toBe('generated');
    expect(existsSync(join(dir, 'dev-kek'))).toBe(true);
    // the second start reads the same key back
    expect(loadConfig({ DATA_DIR: dir }).kek).toEqual({
      value: readFileSync(join(dir, 'dev-kek'), 'utf8').trim(),
      source: 'file',
    });
  });

  it('production refuses to start without CLAVIS_KEK', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/CLAVIS_KEK is required/);
    expect(loadConfig({ NODE_ENV: 'production', CLAVIS_KEK: KEK }).kek.source).toBe('env');
  });

  it('CLAVIS_KEK may list previous keys after the current one (comma-separated); a malformed or repeated key is named by position, never shown', () => {
    const previous = Buffer.alloc(32, 4).toString('hex');
    expect(loadConfig({ CLAVIS_KEK: `${KEK},${previous}` }).kek.value).toBe(`${KEK},${previous}`);
    expect(() => loadConfig({ CLAVIS_KEK: `${KEK},oops` })).toThrow(/CLAVIS_KEK: key 2 of 2 must be 32 bytes/);
    expect(() => loadConfig({ CLAVIS_KEK: `${KEK},oops` })).not.toThrow(/oops|AwMD/);
    expect(() => loadConfig({ CLAVIS_KEK: `${KEK},${KEK}` })).toThrow(/CLAVIS_KEK: key 2 repeats key 1/);
  });

  it('PostgreSQL with DATABASE_URL, Redis with REDIS_URL', () => {
    const c = loadConfig({ CLAVIS_KEK: KEK, DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h:6379' });
    expect(c.database).toEqual({ type: 'postgres', url: 'postgres://u@h/db' });
    expect(c.redisUrl).toBe('redis://h:6379');
  });

  it('REQUEST_TIMEOUT: whole seconds from 1 to 300', () => {
    expect(loadConfig({ CLAVIS_KEK: KEK, REQUEST_TIMEOUT: '30' }).requestTimeout).toBe(30);
    for (const bad of ['0', '301', '1.5', 'soon'])
      expect(() => loadConfig({ CLAVIS_KEK: KEK, REQUEST_TIMEOUT: bad }), bad).toThrow(/REQUEST_TIMEOUT must be/);
  });

  it('ALLOWED_AUTH_METHODS: a comma list of known methods; default all (left to the module); unknown names or none refused', () => {
    expect(loadConfig({ CLAVIS_KEK: KEK }).server.allowedAuthMethods).toBeUndefined();
    expect(
      loadConfig({ CLAVIS_KEK: KEK, ALLOWED_AUTH_METHODS: 'private_key_jwt, client_secret_post' }).server
        .allowedAuthMethods,
    ).toEqual(['private_key_jwt', 'client_secret_post']);
    expect(() => loadConfig({ CLAVIS_KEK: KEK, ALLOWED_AUTH_METHODS: 'private_key_jwt,basic' })).toThrow(
      /ALLOWED_AUTH_METHODS names unknown method\(s\) basic/,
    );
    expect(() => loadConfig({ CLAVIS_KEK: KEK, ALLOWED_AUTH_METHODS: ' , ' })).toThrow(
      /ALLOWED_AUTH_METHODS must name/,
    );
  });

  it('lists every problem in one error', () => {
    try {
      loadConfig({
        CLAVIS_KEK: KEK,
        PORT: 'x',
        ACCESS_TOKEN_TTL: '-1',
        ROTATE_SECRET_ON_UPDATE: 'maybe',
        REGISTRATION_MODE: 'sometimes',
        DATABASE_URL: 'mysql://x',
      });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(EnvironmentError);
      expect((e as EnvironmentError).problems).toHaveLength(5);
    }
  });

  it('lists an unusable TRUST_PROXY among the environment problems', () => {
    expect(() => loadConfig({ CLAVIS_KEK: 'x'.repeat(43), TRUST_PROXY: 'yes' })).toThrow(EnvironmentError);
  });

  it('turns the operator console on at /console with CONSOLE_PASSWORD or CONSOLE_PASSWORD_HASH, not both', () => {
    expect(loadConfig({ CLAVIS_KEK: KEK }).server.console).toBeUndefined();
    expect(loadConfig({ CLAVIS_KEK: KEK, CONSOLE_PASSWORD: 'a long operator password' }).server.console).toEqual({
      path: '/console',
      password: 'a long operator password',
      sessionTtl: undefined,
      idleTimeout: undefined,
      loginAttemptsPerAddress: undefined,
      loginWindow: undefined,
    });
    expect(
      loadConfig({
        CLAVIS_KEK: KEK,
        CONSOLE_PASSWORD_HASH: 'scrypt$…',
        CONSOLE_PATH: '/ops',
        CONSOLE_IDLE_TIMEOUT: '600',
      }).server.console,
    ).toMatchObject({ path: '/ops', passwordHash: 'scrypt$…', idleTimeout: 600 });
    expect(() => loadConfig({ CLAVIS_KEK: KEK, CONSOLE_PASSWORD: 'x'.repeat(12), CONSOLE_PASSWORD_HASH: 'y' })).toThrow(
      /set CONSOLE_PASSWORD or CONSOLE_PASSWORD_HASH, not both/,
    );
    expect(() => loadConfig({ CLAVIS_KEK: KEK, CONSOLE_PATH: '/ops' })).toThrow(
      /CONSOLE_PATH needs CONSOLE_PASSWORD or CONSOLE_PASSWORD_HASH/,
    );
  });
});

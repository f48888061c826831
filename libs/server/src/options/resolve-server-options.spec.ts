import { describe, expect, it } from 'vitest';
import { keyEncryptionKeyId, parseKek } from '../shared/crypto.js';
import { ClavisConfigurationError, resolveServerOptions } from './resolve-server-options.js';

const KEK = Buffer.alloc(32, 1).toString('base64url');

describe('resolveServerOptions', () => {
  it('applies the documented defaults', () => {
    const s = resolveServerOptions({
      issuer: 'https://auth.example.com/',
      keyEncryptionKey: KEK,
    });
    expect(s).toMatchObject({
      issuer: 'https://auth.example.com',
      tokenEndpoint: 'https://auth.example.com/token',
      accessTokenTtl: 300,
      signingAlgorithm: 'ES256',
      assertionMaxLifetime: 300,
      clockSkew: 30,
      assertionAudience: 'strict',
      clientSecretTtl: 0,
      secretRotationOverlap: 86_400,
      rotateSecretOnUpdate: true,
      registration: 'initial_access_token',
      defaultAudience: 'https://auth.example.com',
    });
    expect(s.jwksFetch).toMatchObject({
      timeout: 5,
      maxBytes: 65_536,
      cooldown: 10,
    });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('allowedAuthMethods: all by default; a subset in the known order; unknown or empty refused, naming the value', () => {
    const base = { issuer: 'https://auth.example.com', keyEncryptionKey: KEK };
    expect(resolveServerOptions(base).allowedAuthMethods).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      'private_key_jwt',
      'federated_jwt',
    ]);
    expect(
      resolveServerOptions({ ...base, allowedAuthMethods: ['private_key_jwt', 'client_secret_post'] })
        .allowedAuthMethods,
    ).toEqual(['client_secret_post', 'private_key_jwt']);
    expect(() => resolveServerOptions({ ...base, allowedAuthMethods: [] })).toThrow(
      /allowedAuthMethods must be a non-empty list/,
    );
    expect(() =>
      resolveServerOptions({ ...base, allowedAuthMethods: ['client_secret_magic' as 'private_key_jwt'] }),
    ).toThrow(/allowedAuthMethods: unknown method "client_secret_magic"/);
  });

  it('clientCacheStaleness: 1000 ms by default, 0 allowed (no cache), at most 60000', () => {
    const base = { issuer: 'https://auth.example.com', keyEncryptionKey: KEK };
    expect(resolveServerOptions(base).clientCacheStaleness).toBe(1_000);
    expect(resolveServerOptions({ ...base, clientCacheStaleness: 0 }).clientCacheStaleness).toBe(0);
    expect(() => resolveServerOptions({ ...base, clientCacheStaleness: 60_001 })).toThrow(/clientCacheStaleness/);
    expect(() => resolveServerOptions({ ...base, clientCacheStaleness: -1 })).toThrow(/clientCacheStaleness/);
  });

  it('honours a route prefix in endpoint URLs', () => {
    const s = resolveServerOptions({
      issuer: 'https://auth.example.com',
      keyEncryptionKey: KEK,
      routePrefix: 'oauth/',
    });
    expect(s.routePrefix).toBe('/oauth');
    expect(s.tokenEndpoint).toBe('https://auth.example.com/oauth/token');
  });

  it('allows http only for localhost', () => {
    expect(() =>
      resolveServerOptions({
        issuer: 'http://localhost:3000',
        keyEncryptionKey: KEK,
      }),
    ).not.toThrow();
    expect(() =>
      resolveServerOptions({
        issuer: 'http://auth.example.com',
        keyEncryptionKey: KEK,
      }),
    ).toThrow(/https/);
  });

  it('lists every problem in one error', () => {
    try {
      resolveServerOptions({
        issuer: 'not a url',
        keyEncryptionKey: 'short',
        accessTokenTtl: -1,
        clockSkew: 1.5,
        signingAlgorithm: 'HS256' as never,
        scopes: ['bad scope'],
      });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ClavisConfigurationError);
      const problems = (e as ClavisConfigurationError).problems;
      expect(problems.length).toBeGreaterThanOrEqual(6);
      expect(problems.join('\n')).toMatch(/issuer must be a URL/);
      expect(problems.join('\n')).toMatch(/keyEncryptionKey/);
      expect(problems.join('\n')).toMatch(/accessTokenTtl/);
      expect(problems.join('\n')).toMatch(/clockSkew/);
      expect(problems.join('\n')).toMatch(/signingAlgorithm/);
      expect(problems.join('\n')).toMatch(/scopes/);
    }
  });

  it('keyEncryptionKey: one key, a list (current first), or a comma-separated string', () => {
    const previous = Buffer.alloc(32, 9).toString('base64url');
    const id = (k: string) => keyEncryptionKeyId(parseKek(k));
    expect(
      resolveServerOptions({
        issuer: 'https://a.example',
        keyEncryptionKey: KEK,
      }).keyEncryption.keyIds,
    ).toEqual([id(KEK)]);
    expect(
      resolveServerOptions({
        issuer: 'https://a.example',
        keyEncryptionKey: [KEK, previous],
      }).keyEncryption.keyIds,
    ).toEqual([id(KEK), id(previous)]);
    expect(
      resolveServerOptions({
        issuer: 'https://a.example',
        keyEncryptionKey: `${KEK}, ${previous}`,
      }).keyEncryption.keyIds,
    ).toEqual([id(KEK), id(previous)]);
    expect(() =>
      resolveServerOptions({
        issuer: 'https://a.example',
        keyEncryptionKey: [KEK, 'short'],
      }),
    ).toThrow(/key 2 of 2/);
  });

  it('requires issuer and key', () => {
    expect(() => resolveServerOptions({} as never)).toThrow(/issuer is required[\s\S]*keyEncryptionKey is required/);
  });

  describe('console', () => {
    const base = { issuer: 'https://auth.example.com', keyEncryptionKey: KEK };

    it('is off unless given', () => {
      expect(resolveServerOptions(base).console).toBeNull();
    });

    it('keeps only an scrypt hash of the password, with the documented defaults', () => {
      const s = resolveServerOptions({ ...base, console: { path: '/console/', password: 'a long operator password' } });
      expect(s.console).toMatchObject({
        path: '/console',
        sessionTtl: 28_800,
        idleTimeout: 1_800,
        loginAttemptsPerAddress: 10,
        loginWindow: 900,
      });
      expect(s.console!.passwordHash.logN).toBe(15);
      expect(JSON.stringify(s)).not.toContain('a long operator password');
    });

    it('lists every problem: path, both or neither password, short password, bad hash, bounds', () => {
      const problems = (console: object) => {
        try {
          resolveServerOptions({ ...base, console } as never);
          return [];
        } catch (e) {
          return (e as ClavisConfigurationError).problems;
        }
      };
      expect(problems({ path: 'x y', password: 'a long operator password' })).toEqual([
        'console.path must look like /segment[/segment…]',
      ]);
      expect(problems({ path: '/console' })).toEqual(['console needs exactly one of password and passwordHash']);
      expect(problems({ path: '/console', password: 'a long operator password', passwordHash: 'x' })).toEqual([
        'console needs exactly one of password and passwordHash',
      ]);
      expect(problems({ path: '/console', password: 'short' })).toEqual([
        'console.password must have at least 12 characters',
      ]);
      expect(problems({ path: '/console', passwordHash: 'scrypt$1' })[0]).toMatch(
        /^console.passwordHash must look like/,
      );
      expect(problems({ path: '/console', password: 'a long operator password', idleTimeout: 5 })).toEqual([
        'console.idleTimeout must be a whole number from 60 to 604800',
      ]);
    });
  });
});

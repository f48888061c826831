import { describe, expect, it } from 'vitest';
import {
  ClavisResourceConfigurationError,
  DEFAULT_RESOURCE_OPTIONS,
  resolveResourceOptions,
  type ClavisResourceOptions,
} from './resource-options.js';

const problemsOf = (options: unknown): string[] => {
  try {
    resolveResourceOptions(options as ClavisResourceOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(ClavisResourceConfigurationError);
    return (e as ClavisResourceConfigurationError).problems;
  }
  throw new Error('expected a configuration error');
};

describe('resolveResourceOptions', () => {
  it('applies the defaults and freezes the result', () => {
    const settings = resolveResourceOptions({
      issuer: 'https://auth.example.com',
      audience: 'https://api.example.com',
    });
    expect(settings).toMatchObject({
      issuer: 'https://auth.example.com',
      audience: ['https://api.example.com'],
      realm: 'https://api.example.com',
      discoveryUrls: ['https://auth.example.com/.well-known/oauth-authorization-server'],
      clockSkew: 30,
      cacheMaxEntries: 10_000,
      jwksCooldown: 10,
      jwksTimeout: 5,
      algorithms: DEFAULT_RESOURCE_OPTIONS.algorithms,
    });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(typeof settings.clock.now()).toBe('number');
  });

  it('finds metadata of an issuer with a path per RFC 8414 §3.1, then under the path', () => {
    const settings = resolveResourceOptions({ issuer: 'https://auth.example.com/tenant', audience: ['a', 'b'] });
    expect(settings.discoveryUrls).toEqual([
      'https://auth.example.com/.well-known/oauth-authorization-server/tenant',
      'https://auth.example.com/tenant/.well-known/oauth-authorization-server',
    ]);
    expect(settings.realm).toBe('a');
  });

  it('accepts http for localhost only', () => {
    expect(resolveResourceOptions({ issuer: 'http://127.0.0.1:3000', audience: 'x' }).issuer).toBe(
      'http://127.0.0.1:3000',
    );
    expect(problemsOf({ issuer: 'http://auth.example.com', audience: 'x' })).toEqual([
      'issuer must be an https URL (http only for localhost)',
    ]);
  });

  it('lists every problem at once', () => {
    expect(
      problemsOf({
        audience: [],
        keySource: {},
        jwksUri: 'ftp://x',
        clockSkew: -1,
        cacheMaxEntries: 1.5,
        jwksCooldown: 'x',
        jwksTimeout: 0,
        algorithms: ['HS256'],
        clock: {},
        isRevoked: true,
      }),
    ).toEqual([
      'issuer is required',
      'audience is required: a non-empty string or list of strings',
      'keySource must have a getKeySet() method',
      'jwksUri must be an https URL (http only for localhost)',
      'set keySource or jwksUri, not both',
      'clockSkew must be a whole number of seconds from 0 to 300',
      'cacheMaxEntries must be a whole number of entries from 0 to 1000000',
      'jwksCooldown must be a whole number of seconds from 0 to 3600',
      'jwksTimeout must be a whole number of seconds from 1 to 60',
      'algorithms must be a non-empty list of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519',
      'clock must have a now() method',
      'isRevoked must be a function',
    ]);
  });

  it('rejects none, HMAC and an issuer with a query', () => {
    expect(problemsOf({ issuer: 'https://a.example?x=1', audience: 'x', algorithms: ['none'] })).toEqual([
      'issuer must not have a query or fragment',
      'algorithms must be a non-empty list of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519',
    ]);
  });

  it('refuses a jwksCooldown under one second for remote keys; the in-process key source may use 0', () => {
    const base = { issuer: 'https://auth.example.com', audience: 'x' };
    expect(problemsOf({ ...base, jwksCooldown: 0 })).toEqual([
      'jwksCooldown must be a whole number of seconds from 1 to 3600',
    ]);
    expect(problemsOf({ ...base, jwksUri: 'https://auth.example.com/jwks', jwksCooldown: 0.5 })).toEqual([
      'jwksCooldown must be a whole number of seconds from 1 to 3600',
    ]);
    expect(resolveResourceOptions({ ...base, jwksCooldown: 1 }).jwksCooldown).toBe(1);
    expect(
      resolveResourceOptions({ ...base, keySource: { getKeySet: async () => ({ keys: [] }) }, jwksCooldown: 0 })
        .jwksCooldown,
    ).toBe(0);
  });

  it('bounds jwksMaxStale and maxResponseBytes, and checks allowedJwksOrigins', () => {
    const base = { issuer: 'https://auth.example.com', audience: 'x' };
    const settings = resolveResourceOptions({ ...base, allowedJwksOrigins: ['https://keys.example.com/'] });
    expect(settings).toMatchObject({
      jwksMaxStale: 3_600,
      maxResponseBytes: 65_536,
      jwksOrigins: ['https://auth.example.com', 'https://keys.example.com'],
    });
    expect(
      problemsOf({
        ...base,
        jwksMaxStale: 59,
        maxResponseBytes: 10,
        allowedJwksOrigins: ['http://keys.example.com', 'https://keys.example.com/jwks', 7],
      }),
    ).toEqual([
      'jwksMaxStale must be a whole number of seconds from 60 to 86400',
      'maxResponseBytes must be a whole number of bytes from 1024 to 10485760',
      'allowedJwksOrigins: "http://keys.example.com" must be an origin such as https://keys.example.com (http only for localhost)',
      'allowedJwksOrigins: "https://keys.example.com/jwks" must be an origin such as https://keys.example.com (http only for localhost)',
      'allowedJwksOrigins: 7 must be an origin such as https://keys.example.com (http only for localhost)',
    ]);
  });
});

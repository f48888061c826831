import { describe, expect, it } from 'vitest';
import { ClavisConfigurationError, resolveServerOptions } from './resolve-server-options.js';

const KEK = 'dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM';
const problems = (issuer: string, routePrefix: string) => {
  try {
    resolveServerOptions({ issuer, keyEncryptionKey: KEK, routePrefix });
    return [];
  } catch (e) {
    return (e as ClavisConfigurationError).problems;
  }
};

describe('issuer path and route prefix (RFC 8414 §3.1)', () => {
  it('an issuer with a path: the routes must lie at or under it', () => {
    expect(problems('https://host/oauth', '/oauth')).toEqual([]);
    expect(problems('https://host/oauth/', 'oauth/v1')).toEqual([]);
    expect(problems('https://host/oauth', '')).toEqual([
      "routePrefix must be the issuer's path (/oauth) or lie under it, so that the issuer describes this server; it is '' (the root)",
    ]);
    expect(problems('https://host/oauth', '/oauthx')).toEqual([
      "routePrefix must be the issuer's path (/oauth) or lie under it, so that the issuer describes this server; it is /oauthx",
    ]);
  });
  it('an issuer without a path goes with any prefix', () => {
    expect(problems('https://host', '/oauth')).toEqual([]);
    expect(problems('https://host/', '')).toEqual([]);
  });
  it('settings carry the issuer path and the endpoints', () => {
    const s = resolveServerOptions({ issuer: 'https://host/oauth', keyEncryptionKey: KEK, routePrefix: '/oauth' });
    expect({ issuerPath: s.issuerPath, endpointBase: s.endpointBase }).toEqual({
      issuerPath: '/oauth',
      endpointBase: 'https://host/oauth',
    });
  });
  it('every problem in one error, with the others', () => {
    expect(problems('https://host/oauth', '/bad prefix')).toHaveLength(2);
  });
});

import { describe, expect, it } from 'vitest';
import { resolveFederatedIssuers } from './federation-options.js';
import { ClavisConfigurationError, resolveServerOptions } from './resolve-server-options.js';

const KEK = Buffer.alloc(32, 1).toString('base64url');

describe('federation.issuers', () => {
  it('resolves key sources and defaults: jwksUri, discovery, SPIFFE bundle', () => {
    const s = resolveServerOptions({
      issuer: 'https://auth.example.com',
      keyEncryptionKey: KEK,
      federation: {
        issuers: [
          { issuer: 'https://token.actions.githubusercontent.com' },
          { issuer: 'https://k8s.example', jwksUri: 'http://127.0.0.1:8080/openid/v1/jwks', replay: 'reusable' },
          { trustDomain: 'example.org', spiffeBundleEndpoint: 'https://10.0.0.5:8443', maxLifetime: 300 },
        ],
      },
    });
    expect(s.federation.issuers).toEqual([
      {
        issuer: 'https://token.actions.githubusercontent.com',
        keys: {
          from: 'discovery',
          url: 'https://token.actions.githubusercontent.com/.well-known/openid-configuration',
        },
        trustDomain: null,
        maxLifetime: 3600,
        replay: 'single-use',
      },
      {
        issuer: 'https://k8s.example',
        keys: { from: 'jwks_uri', url: 'http://127.0.0.1:8080/openid/v1/jwks' },
        trustDomain: null,
        maxLifetime: 3600,
        replay: 'reusable',
      },
      {
        issuer: 'spiffe://example.org',
        keys: { from: 'spiffe_bundle', url: 'https://10.0.0.5:8443/' },
        trustDomain: 'example.org',
        maxLifetime: 300,
        replay: 'single-use',
      },
    ]);
    expect(resolveServerOptions({ issuer: 'https://a.example', keyEncryptionKey: KEK }).federation.issuers).toEqual([]);
  });

  it('names every problem of every entry', () => {
    const problems: string[] = [];
    resolveFederatedIssuers(
      [
        { issuer: 'http://10.0.0.1' },
        { issuer: 'https://a.example', jwksUri: 'https://user:pw@a.example/jwks' },
        { issuer: 'spiffe://x', jwksUri: 'https://a.example/jwks', spiffeBundleEndpoint: 'https://b.example' },
        { trustDomain: 'Not A Domain', spiffeBundleEndpoint: 'https://b.example' },
        { issuer: 'https://a.example', maxLifetime: 1.5 },
        'https://a.example',
      ],
      problems,
    );
    expect(problems).toEqual([
      'federation.issuers[0].issuer must be https (http only on a loopback address), or give jwksUri (its keys are found by OIDC discovery otherwise)',
      'federation.issuers[1].jwksUri must not have credentials, a fragment, whitespace or control characters',
      'federation.issuers[2].trustDomain and .spiffeBundleEndpoint go together (a SPIFFE trust domain and its bundle endpoint)',
      'federation.issuers[2] must name one key source: jwksUri or spiffeBundleEndpoint',
      'federation.issuers[3].trustDomain must be a SPIFFE trust domain name (lowercase letters, digits, . _ -)',
      'federation.issuers[4].issuer "https://a.example" is listed twice',
      'federation.issuers[4].maxLifetime must be a whole number from 10 to 86400 (seconds)',
      'federation.issuers[5] must be an object',
    ]);
    expect(() =>
      resolveServerOptions({
        issuer: 'https://a.example',
        keyEncryptionKey: KEK,
        federation: { issuers: 'x' as never },
      }),
    ).toThrow(ClavisConfigurationError);
  });
});

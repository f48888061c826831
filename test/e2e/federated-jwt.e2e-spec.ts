import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { federatedJwt, TokenClient, JWT_SPIFFE_ASSERTION_TYPE } from '@clavis/client';
import { basic, expectOAuthError, postForm } from '../support/http.js';
import { expectRegistrationError, jsonRequest, registrationApi } from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(alg: 'ES256' | 'RS256', kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

/**
 * A real token issuer on 127.0.0.1: OIDC discovery and a JWK Set (a Kubernetes API server or GitHub
 * Actions), or a SPIFFE bundle endpoint. Its keys can be rotated; it counts key fetches.
 */
class TestIssuer {
  keys: SigningKey[] = [];
  fetches = 0;
  private server!: Server;
  url = '';
  /** The `iss` its tokens carry (the URL unless given, e.g. GitHub's real issuer served from loopback). */
  issuer = '';

  constructor(private readonly kind: 'oidc' | 'spiffe') {}

  async start(issuer?: string, alg: 'ES256' | 'RS256' = 'ES256'): Promise<this> {
    this.keys = [await newKey(alg)];
    this.server = createServer((req, res) => {
      const send = (body: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/.well-known/openid-configuration')
        return send({
          issuer: this.issuer,
          jwks_uri: `${this.url}/openid/v1/jwks`,
          id_token_signing_alg_values_supported: [alg],
        });
      if (req.url === '/openid/v1/jwks' && this.kind === 'oidc') {
        this.fetches++;
        return send({ keys: this.keys.map((k) => k.publicJwk) });
      }
      if (req.url === '/bundle' && this.kind === 'spiffe') {
        this.fetches++;
        // SPIFFE bundle: JWT-SVID keys carry use "jwt-svid" and no alg; X.509 roots use "x509-svid".
        return send({
          keys: [
            ...this.keys.map(({ publicJwk: { alg: _alg, ...k } }) => ({ ...k, use: 'jwt-svid' })),
            { kty: 'EC', crv: 'P-256', use: 'x509-svid', x5c: ['MIIBnot-a-cert'], x: 'AA', y: 'AA' },
          ],
          spiffe_sequence: 1,
          spiffe_refresh_hint: 300,
        });
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.issuer = issuer ?? this.url;
    return this;
  }

  /** Signs a token with the current (or given) key; `claims` override the defaults, `undefined` removes one. */
  async mint(claims: Record<string, unknown>, opts: { key?: SigningKey; header?: Record<string, unknown> } = {}) {
    const key = opts.key ?? this.keys[this.keys.length - 1];
    const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)) as JWTPayload;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...opts.header })
      .sign(key.privateKey);
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

describe('federated_jwt: a client authenticates with its platform identity (Kubernetes, GitHub Actions, SPIFFE)', () => {
  let t: TestApp;
  let k8s: TestIssuer;
  let github: TestIssuer;
  let spiffe: TestIssuer;
  let untrusted: TestIssuer;
  let api: ReturnType<typeof registrationApi>;
  let k8sClient: string;
  let githubClient: string;
  let spiffeClient: string;
  // Unique per run: a PostgreSQL database outlives the run, and an identity belongs to one client only.
  const run = randomBytes(4).toString('hex');
  const K8S_SUB = `system:serviceaccount:payments-${run}:api`;
  const GITHUB_SUB = `repo:acme/payments-${run}:ref:refs/heads/main`;
  const SPIFFE_ID = `spiffe://example.org/ns/payments-${run}/sa/api`;
  const now = () => t.clock.nowSeconds();

  const k8sToken = (over: Record<string, unknown> = {}, opts?: Parameters<TestIssuer['mint']>[1]) =>
    k8s.mint(
      {
        iss: k8s.issuer,
        sub: K8S_SUB,
        aud: [t.issuer],
        iat: now(),
        nbf: now(),
        exp: now() + 3600,
        jti: randomUUID(),
        'kubernetes.io': {
          namespace: 'payments',
          serviceaccount: { name: 'api', uid: randomUUID() },
          pod: { name: 'api-7d4b9c-x2x9q', uid: randomUUID() },
        },
        ...over,
      },
      opts,
    );
  const githubToken = (over: Record<string, unknown> = {}, opts?: Parameters<TestIssuer['mint']>[1]) =>
    github.mint(
      {
        iss: GITHUB_ISSUER,
        sub: GITHUB_SUB,
        aud: t.issuer,
        iat: now(),
        nbf: now() - 5,
        exp: now() + 300,
        jti: randomUUID(),
        repository: 'acme/payments',
        repository_owner: 'acme',
        ref: 'refs/heads/main',
        workflow: 'deploy',
        event_name: 'push',
        runner_environment: 'github-hosted',
        ...over,
      },
      opts,
    );
  /** A JWT-SVID as SPIRE mints it: no iss, no jti, aud, exp, iat. */
  const svid = (over: Record<string, unknown> = {}) =>
    spiffe.mint({ sub: SPIFFE_ID, aud: [t.issuer], iat: now(), exp: now() + 300, ...over });

  const tokenRequest = (clientId: string | undefined, assertion: string, type = JWT_BEARER, headers = {}) =>
    postForm(
      t.tokenEndpoint,
      {
        grant_type: 'client_credentials',
        ...(clientId !== undefined ? { client_id: clientId } : {}),
        client_assertion_type: type,
        client_assertion: assertion,
      },
      headers,
    );

  /** 401 invalid_client, with `reason` in the audit log. */
  async function refused(res: Awaited<ReturnType<typeof postForm>>, reason: string) {
    expectOAuthError(res, 401, 'invalid_client');
    expect(t.audit.ofType('client.authentication_failed').at(-1)?.reason).toBe(reason);
  }

  beforeAll(async () => {
    k8s = await new TestIssuer('oidc').start();
    github = await new TestIssuer('oidc').start(GITHUB_ISSUER, 'RS256');
    spiffe = await new TestIssuer('spiffe').start();
    untrusted = await new TestIssuer('oidc').start();
    t = await createTestApp({
      env: {
        FEDERATED_ISSUERS: JSON.stringify([
          { issuer: k8s.issuer, replay: 'reusable' }, // keys by OIDC discovery
          { issuer: GITHUB_ISSUER, jwks_uri: `${github.url}/openid/v1/jwks`, max_lifetime: 600 }, // single-use
          { trust_domain: 'example.org', spiffe_bundle_endpoint: `${spiffe.url}/bundle`, replay: 'reusable' },
        ]),
      },
    });
    api = registrationApi(t);
    const register = async (issuer: string, subject: string) => {
      const body = await api.registerOk({
        token_endpoint_auth_method: 'federated_jwt',
        federated_credentials: [{ issuer, subject }],
        scope: 'statements:read',
      });
      expect(body.client_secret).toBeUndefined();
      expect(body.federated_credentials).toEqual([{ issuer, subject }]);
      return body.client_id as string;
    };
    k8sClient = await register(k8s.issuer, K8S_SUB);
    githubClient = await register(GITHUB_ISSUER, GITHUB_SUB);
    spiffeClient = await register('spiffe://example.org', SPIFFE_ID);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([k8s, github, spiffe, untrusted].map((s) => s?.close()));
  });

  it('metadata advertises federated_jwt and the trusted issuers', async () => {
    const { json } = await jsonRequest(`${t.baseUrl}/.well-known/oauth-authorization-server`);
    expect(json.token_endpoint_auth_methods_supported).toContain('federated_jwt');
    expect(json.federated_jwt_issuers_supported).toEqual([k8s.issuer, GITHUB_ISSUER, 'spiffe://example.org']);
  });

  it('Kubernetes: a projected service-account token gets an access token over plain HTTP; reusable: the same token again', async () => {
    const token = await k8sToken();
    for (let i = 0; i < 2; i++) {
      const res = await tokenRequest(k8sClient, token);
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ token_type: 'Bearer', scope: 'statements:read' });
    }
  });

  it('RFC 7592 GET lists the federated credential with its issuer, subject and use (never a secret)', async () => {
    const subject = `system:serviceaccount:usage:${randomUUID()}`;
    const reg = await api.registerOk({
      token_endpoint_auth_method: 'federated_jwt',
      federated_credentials: [{ issuer: k8s.issuer, subject }],
      scope: 'statements:read',
    });
    const before = await api.read(reg.registration_client_uri, reg.registration_access_token);
    expect(before.json.credentials).toEqual([
      expect.objectContaining({ type: 'federated', issuer: k8s.issuer, subject, use_count: 0, last_used_at: null }),
    ]);
    for (let i = 0; i < 2; i++) {
      const res = await tokenRequest(reg.client_id, await k8sToken({ sub: subject }));
      expect(res.status, res.text).toBe(200);
    }
    const after = await api.read(reg.registration_client_uri, reg.registration_access_token);
    expect(after.json.credentials).toHaveLength(1);
    expect(after.json.credentials[0]).toMatchObject({ type: 'federated', issuer: k8s.issuer, subject, use_count: 2 });
    expect(after.json.credentials[0].last_used_at).toEqual(expect.any(Number));
  });

  it('Kubernetes through @clavis/client: federatedJwt({ tokenFile }) reads the rotated file for every request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clavis-sa-'));
    const tokenFile = join(dir, 'token');
    const first = await k8sToken();
    writeFileSync(tokenFile, `${first}\n`);
    const auth = federatedJwt({ clientId: k8sClient, tokenFile });
    const sent = (await auth.authenticate({ issuer: t.issuer, now: t.clock.now() })).body;
    expect(sent).toEqual({ client_id: k8sClient, client_assertion_type: JWT_BEARER, client_assertion: first });
    const tokens = new TokenClient({ issuer: t.issuer, clientId: k8sClient, auth, clock: t.clock });
    expect(await tokens.getToken()).toMatch(/^ey/);
    const second = await k8sToken(); // the kubelet rotated the file
    writeFileSync(tokenFile, second);
    expect((await auth.authenticate({ issuer: t.issuer, now: t.clock.now() })).body.client_assertion).toBe(second);
    const fresh = new TokenClient({ issuer: t.issuer, clientId: k8sClient, auth, clock: t.clock });
    expect(await fresh.getToken()).toMatch(/^ey/);
  });

  it('GitHub Actions through @clavis/client: federatedJwt({ token: async () => … }); single-use: the same token twice is refused', async () => {
    const token = await githubToken();
    const tokens = new TokenClient({
      issuer: t.issuer,
      clientId: githubClient,
      auth: federatedJwt({ clientId: githubClient, token: async () => token }),
      clock: t.clock,
    });
    expect(await tokens.getToken()).toMatch(/^ey/);
    await refused(await tokenRequest(githubClient, token), 'jti_replayed');
    const res = await tokenRequest(githubClient, await githubToken());
    expect(res.status, res.text).toBe(200);
  });

  it('curl: the exact command of the README', async () => {
    const token = await k8sToken();
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      t.tokenEndpoint,
      '-d',
      'grant_type=client_credentials',
      '-d',
      `client_id=${k8sClient}`,
      '-d',
      `client_assertion_type=${JWT_BEARER}`,
      '-d',
      `client_assertion=${token}`,
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ token_type: 'Bearer', scope: 'statements:read' });
  });

  it('SPIFFE: a JWT-SVID (no iss, no jti) as jwt-spiffe, with or without client_id; and through the SDK', async () => {
    const token = await svid();
    const withoutId = await tokenRequest(undefined, token, JWT_SPIFFE_ASSERTION_TYPE);
    expect(withoutId.status, withoutId.text).toBe(200);
    const withId = await tokenRequest(spiffeClient, token, JWT_SPIFFE_ASSERTION_TYPE); // reusable
    expect(withId.status, withId.text).toBe(200);
    const tokens = new TokenClient({
      issuer: t.issuer,
      clientId: spiffeClient,
      auth: federatedJwt({ clientId: spiffeClient, token: () => svid(), assertionType: 'jwt-spiffe' }),
      clock: t.clock,
    });
    expect(await tokens.getToken()).toMatch(/^ey/);
  });

  describe('every rule has its refusal: 401 invalid_client, the reason in the audit log', () => {
    it('aud: another audience, or the issuer with another value beside it', async () => {
      await refused(
        await tokenRequest(k8sClient, await k8sToken({ aud: 'https://kubernetes.default.svc' })),
        'assertion_aud_not_issuer',
      );
      await refused(
        await tokenRequest(k8sClient, await k8sToken({ aud: [t.issuer, 'https://other.example'] })),
        'assertion_aud_not_issuer',
      );
      await refused(await tokenRequest(k8sClient, await k8sToken({ aud: undefined })), 'assertion_aud_not_issuer');
    });

    it("another subject of the same issuer (another service account) is not this client's", async () => {
      await refused(
        await tokenRequest(k8sClient, await k8sToken({ sub: `system:serviceaccount:payments-${run}:other` })),
        'federated_credential_mismatch',
      );
      // GitHub: another branch of the same repository.
      await refused(
        await tokenRequest(
          githubClient,
          await githubToken({ sub: `repo:acme/payments-${run}:ref:refs/heads/feature` }),
        ),
        'federated_credential_mismatch',
      );
      // Another client's identity, though trusted and valid.
      await refused(await tokenRequest(githubClient, await k8sToken()), 'federated_credential_mismatch');
    });

    it('an issuer the operator does not trust, even with the right subject; its keys are never fetched', async () => {
      const token = await untrusted.mint({
        iss: untrusted.issuer,
        sub: K8S_SUB,
        aud: t.issuer,
        iat: now(),
        exp: now() + 60,
      });
      await refused(await tokenRequest(k8sClient, token), 'federated_issuer_untrusted');
      // A trusted issuer's iss on a token signed by another key: the signature does not verify.
      const forged = await untrusted.mint(
        { iss: k8s.issuer, sub: K8S_SUB, aud: t.issuer, iat: now(), exp: now() + 60 },
        { header: { kid: k8s.keys[0].kid } },
      );
      await refused(await tokenRequest(k8sClient, forged), 'signature_invalid');
      expect(untrusted.fetches).toBe(0);
    });

    it('expired, not yet valid, iat in the future, no exp, lifetime over max_lifetime', async () => {
      await refused(
        await tokenRequest(k8sClient, await k8sToken({ iat: now() - 4000, nbf: now() - 4000, exp: now() - 400 })),
        'assertion_expired',
      );
      await refused(await tokenRequest(k8sClient, await k8sToken({ nbf: now() + 600 })), 'assertion_not_yet_valid');
      await refused(
        await tokenRequest(k8sClient, await k8sToken({ iat: now() + 600, exp: now() + 1200 })),
        'assertion_not_yet_valid',
      );
      await refused(await tokenRequest(k8sClient, await k8sToken({ exp: undefined })), 'assertion_exp_missing');
      // Kubernetes: default max_lifetime 3600; a 2-hour token is refused.
      await refused(
        await tokenRequest(k8sClient, await k8sToken({ exp: now() + 7200 })),
        'federated_lifetime_exceeded',
      );
      // GitHub: max_lifetime 600 configured.
      await refused(
        await tokenRequest(githubClient, await githubToken({ exp: now() + 601 })),
        'federated_lifetime_exceeded',
      );
      const ok = await tokenRequest(githubClient, await githubToken({ exp: now() + 600 }));
      expect(ok.status, ok.text).toBe(200);
    });

    it('symmetric and unsigned algorithms: HS256 and none', async () => {
      const claims = { iss: k8s.issuer, sub: K8S_SUB, aud: t.issuer, iat: now(), exp: now() + 60 };
      const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(randomBytes(32));
      await refused(await tokenRequest(k8sClient, hs), 'assertion_alg_not_allowed');
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      // alg none: unsigned (an empty signature is not a compact JWS at all), or with any signature bytes.
      await refused(await tokenRequest(k8sClient, `${b64({ alg: 'none' })}.${b64(claims)}.`), 'assertion_malformed');
      await refused(
        await tokenRequest(k8sClient, `${b64({ alg: 'none' })}.${b64(claims)}.AAAA`),
        'assertion_alg_not_allowed',
      );
      // RS256 under the kid of the issuer's EC key: no published key fits the algorithm.
      const rsa = await newKey('RS256', k8s.keys[0].kid);
      await refused(await tokenRequest(k8sClient, await k8sToken({}, { key: rsa })), 'kid_unknown');
    });

    it('unknown client; a secret, or a private_key_jwt-style assertion, for a federated client', async () => {
      await refused(await tokenRequest(randomBytes(16).toString('hex'), await k8sToken()), 'client_unknown');
      const basicRes = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        basic(k8sClient, 'a'.repeat(43)),
      );
      await refused(basicRes, 'method_mismatch');
      const post = await postForm(t.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_id: k8sClient,
        client_secret: 'x'.repeat(43),
      });
      await refused(post, 'method_mismatch');
      // Without client_id, a jwt-bearer token's subject is taken as the client id: no such client.
      await refused(await tokenRequest(undefined, await k8sToken()), 'client_unknown');
    });

    it('a platform token for a client of another method is refused as client_id_mismatch', async () => {
      const other = await api.registerOk({
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'statements:read',
      });
      await refused(await tokenRequest(other.client_id, await k8sToken()), 'client_id_mismatch');
    });

    it('jwt-spiffe: sub must be a SPIFFE ID of the trust domain; unknown SPIFFE IDs find no client', async () => {
      await refused(
        await tokenRequest(
          undefined,
          await svid({ sub: 'spiffe://evil.example/ns/payments/sa/api' }),
          JWT_SPIFFE_ASSERTION_TYPE,
        ),
        'federated_issuer_untrusted',
      );
      await refused(
        await tokenRequest(
          spiffeClient,
          await svid({ sub: 'spiffe://evil.example/ns/payments/sa/api' }),
          JWT_SPIFFE_ASSERTION_TYPE,
        ),
        'federated_issuer_untrusted',
      );
      await refused(await tokenRequest(k8sClient, await k8sToken(), JWT_SPIFFE_ASSERTION_TYPE), 'federated_not_spiffe');
      await refused(
        await tokenRequest(
          undefined,
          await svid({ sub: `spiffe://example.org/ns/payments-${run}/sa/other` }),
          JWT_SPIFFE_ASSERTION_TYPE,
        ),
        'client_unknown',
      );
      await refused(
        await tokenRequest(
          spiffeClient,
          await svid({ sub: `spiffe://example.org/ns/payments-${run}/sa/other` }),
          JWT_SPIFFE_ASSERTION_TYPE,
        ),
        'federated_credential_mismatch',
      );
      await refused(
        await tokenRequest(
          spiffeClient,
          await svid({ aud: ['spiffe://example.org/other'] }),
          JWT_SPIFFE_ASSERTION_TYPE,
        ),
        'assertion_aud_not_issuer',
      );
    });

    it('key rotation at the issuer: a new kid is fetched and accepted; a removed key is refused once the set is refetched', async () => {
      const old = k8s.keys[0];
      const oldToken = await k8sToken();
      expect((await tokenRequest(k8sClient, oldToken)).status).toBe(200);
      const fetches = k8s.fetches;
      k8s.keys.push(await newKey('ES256')); // the API server adds its next key
      t.clock.advance(11); // past the unknown-kid cooldown
      const res = await tokenRequest(k8sClient, await k8sToken());
      expect(res.status, res.text).toBe(200);
      expect(k8s.fetches).toBe(fetches + 1);
      k8s.keys = k8s.keys.filter((k) => k !== old); // and removes the old one
      t.clock.advance(301); // the cached set (300 s without Cache-Control) is stale: refetched
      await refused(await tokenRequest(k8sClient, await k8sToken({}, { key: old })), 'kid_unknown');
      const current = await tokenRequest(k8sClient, await k8sToken());
      expect(current.status, current.text).toBe(200);
    });
  });

  describe('registration', () => {
    const fed = (credentials: unknown) => ({
      token_endpoint_auth_method: 'federated_jwt',
      federated_credentials: credentials,
    });
    const rejected = async (body: unknown) => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const res = await api.register(body, token);
      expectRegistrationError(res, 400, 'invalid_client_metadata');
      return res.json.error_description as string;
    };

    it('an issuer the operator does not trust', async () => {
      expect(await rejected(fed([{ issuer: untrusted.issuer, subject: K8S_SUB }]))).toMatch(
        /not an issuer this server trusts/,
      );
    });

    it('0 or 21 entries, or none at all', async () => {
      expect(await rejected(fed([]))).toMatch(/1 to 20/);
      const many = Array.from({ length: 21 }, (_, i) => ({
        issuer: k8s.issuer,
        subject: `system:serviceaccount:ns:sa${i}`,
      }));
      expect(await rejected(fed(many))).toMatch(/1 to 20/);
      expect(await rejected({ token_endpoint_auth_method: 'federated_jwt' })).toMatch(/1 to 20/);
      const twenty = await api.registerOk(fed(many.slice(0, 20)) as Record<string, unknown>);
      expect(twenty.federated_credentials).toHaveLength(20);
    });

    it('an identity another client holds (400 invalid_client_metadata), also when two registrations race', async () => {
      expect(await rejected(fed([{ issuer: k8s.issuer, subject: K8S_SUB }]))).toMatch(/already held by another client/);
      const subject = `system:serviceaccount:race:${randomUUID()}`;
      const tokens = await Promise.all([1, 2, 3, 4].map(() => t.initialTokens.create({ uses: 1 })));
      const results = await Promise.all(
        tokens.map(({ token }) => api.register(fed([{ issuer: k8s.issuer, subject }]), token)),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 400, 400, 400]);
    });

    it('malformed entries; federated_credentials with another method; a secret method cannot carry them', async () => {
      expect(await rejected(fed([{ issuer: k8s.issuer }]))).toMatch(/subject must be/);
      expect(await rejected(fed([{ issuer: k8s.issuer, subject: 42 }]))).toMatch(/subject must be/);
      expect(await rejected(fed([{ issuer: k8s.issuer, subject: 'a b' }]))).toMatch(/subject must be/);
      expect(await rejected(fed([{ issuer: k8s.issuer, subject: 'x', extra: 1 }]))).toMatch(
        /other than issuer and subject/,
      );
      expect(await rejected(fed(['system:serviceaccount:a:b']))).toMatch(/must be an object/);
      expect(
        await rejected(
          fed([
            { issuer: k8s.issuer, subject: 'x' },
            { issuer: k8s.issuer, subject: 'x' },
          ]),
        ),
      ).toMatch(/listed twice/);
      expect(
        await rejected({
          token_endpoint_auth_method: 'client_secret_basic',
          federated_credentials: [{ issuer: k8s.issuer, subject: 'y' }],
        }),
      ).toMatch(/apply only to federated_jwt/);
    });

    it('RFC 7592: a client moves to another identity; the old one is free for another client', async () => {
      const subject = `system:serviceaccount:move:${randomUUID()}`;
      const reg = await api.registerOk(fed([{ issuer: k8s.issuer, subject }]) as Record<string, unknown>);
      const moved = await api.update(
        reg.registration_client_uri,
        { client_id: reg.client_id, ...fed([{ issuer: k8s.issuer, subject: `${subject}-v2` }]) },
        reg.registration_access_token,
      );
      expect(moved.status, moved.text).toBe(200);
      expect(moved.json.federated_credentials).toEqual([{ issuer: k8s.issuer, subject: `${subject}-v2` }]);
      expect(moved.json.client_secret).toBeUndefined();
      await api.registerOk(fed([{ issuer: k8s.issuer, subject }]) as Record<string, unknown>);
    });
  });
});

describe('federated_jwt: operator configuration is checked at boot', () => {
  it.each([
    ['[{"issuer":"http://issuer.example"}]', /must be https \(http only on a loopback address\)/],
    ['[{"issuer":"https://a.example","replay":"sometimes"}]', /replay must be single-use or reusable/],
    ['[{"issuer":"https://a.example","max_lifetime":0}]', /maxLifetime must be a whole number/],
    ['[{"issuer":"https://a.example"},{"issuer":"https://a.example"}]', /listed twice/],
    ['[{"trust_domain":"example.org"}]', /trustDomain and \.spiffeBundleEndpoint go together/],
    ['[{"issuer":"https://a.example","jwks":"x"}]', /unknown member "jwks"/],
    ['{not json', /FEDERATED_ISSUERS: not inline JSON, and the file cannot be read/],
    ['[not json', /FEDERATED_ISSUERS is not valid JSON/],
  ])('FEDERATED_ISSUERS=%s is refused', async (value, message) => {
    await expect(createTestApp({ env: { FEDERATED_ISSUERS: value } })).rejects.toThrow(message);
  });

  it('FEDERATED_ISSUERS may name a JSON file; without it, federated_jwt is neither advertised nor registrable', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'clavis-fed-')), 'issuers.json');
    writeFileSync(file, JSON.stringify([{ issuer: 'https://token.actions.githubusercontent.com' }]));
    const t = await createTestApp({ env: { FEDERATED_ISSUERS: file } });
    try {
      const { json } = await jsonRequest(`${t.baseUrl}/.well-known/oauth-authorization-server`);
      expect(json.federated_jwt_issuers_supported).toEqual(['https://token.actions.githubusercontent.com']);
    } finally {
      await t.close();
    }
    const plain = await createTestApp();
    try {
      const { json } = await jsonRequest(`${plain.baseUrl}/.well-known/oauth-authorization-server`);
      expect(json.token_endpoint_auth_methods_supported).not.toContain('federated_jwt');
      expect(json.federated_jwt_issuers_supported).toBeUndefined();
      const { token } = await plain.initialTokens.create({ uses: 1 });
      const res = await registrationApi(plain).register(
        {
          token_endpoint_auth_method: 'federated_jwt',
          federated_credentials: [{ issuer: 'https://a.example', subject: 's' }],
        },
        token,
      );
      expectRegistrationError(res, 400, 'invalid_client_metadata');
    } finally {
      await plain.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock, OAuthError, type ClientRecord } from '@clavis/server';
import { InMemoryReplayStore } from '@clavis/server/testing';
import { ClientAssertionVerifier } from '../../libs/server/src/client-auth/client-assertion.verifier.js';
import { ClientJwksFetcher } from '../../libs/server/src/client-auth/client-jwks.fetcher.js';
import { ClientKeySet } from '../../libs/server/src/client-auth/client-key-set.js';
import { ClientKeySource } from '../../libs/server/src/client-auth/client-key.source.js';
import { PrivateKeyJwtStrategy } from '../../libs/server/src/client-auth/private-key-jwt.strategy.js';
import { decodeJws } from '../../libs/server/src/jws/compact-jws.js';
import { createJwsBackend } from '../../libs/server/src/jws/create-jws-backend.js';
import { isHmacAlg } from '../../libs/server/src/shared/jose-algorithms.js';
import { resolveServerOptions } from '../../libs/server/src/options/resolve-server-options.js';
import {
  buildCorpus,
  corpusClients,
  corpusKeys,
  type CorpusClient,
  type CorpusKeys,
} from '../support/assertion-corpus.js';
import { tokenWithAssertion } from '../support/registration.js';
import { createClient, createTestApp, TEST_KEK, type TestApp } from '../support/test-app.js';

/**
 * One set of rules whichever JWS backend runs: the same corpus of crafted assertions through the
 * JWS backends themselves, through the JWT method strategies with cryptoMode inline (node:crypto)
 * and threadpool (jose/WebCrypto), and over HTTP with CRYPTO_MODE=inline and =threadpool. Every
 * entry must get its expected answer on every path.
 */
const MODES = ['inline', 'threadpool'] as const;
const ISSUER = 'https://issuer.example';
const HMAC_SECRET = 'corpus-hmac-secret-of-at-least-sixty-four-bytes-for-hs512-0123456789abcdef';
let keys: CorpusKeys;
beforeAll(() => {
  keys = corpusKeys();
});

/** Outcome per entry name, for the comparison of the two paths. */
const outcomes: Record<string, Record<string, boolean>> = {};

/** What a backend said of each entry: the shared parser refused it, no key was selected, or the signature check's answer. */
const backendOutcomes: Record<string, Record<string, string>> = {};

describe.each(MODES)('assertion corpus at the %s JwsBackend', (mode) => {
  it('every accepted entry verifies, and the same entry with a flipped signature byte does not', async () => {
    const backend = createJwsBackend(mode);
    expect(backend.mode).toBe(mode);
    const defs = corpusClients(keys);
    const names = Object.keys(defs) as CorpusClient[];
    const clientIds = Object.fromEntries(names.map((n) => [n, `corpus-${n}`])) as Record<CorpusClient, string>;
    const corpus = buildCorpus(keys, {
      issuer: ISSUER,
      clientIds,
      now: Date.UTC(2026, 0, 1) / 1000,
      hmacSecret: HMAC_SECRET,
    });
    const keySets = Object.fromEntries(
      names.map((n) => [n, new ClientKeySet(JSON.parse(JSON.stringify(defs[n].jwks ?? { keys: [] })))]),
    ) as Record<CorpusClient, ClientKeySet>;
    const got: Record<string, string> = {};
    const wrong: string[] = [];
    for (const entry of corpus) {
      let outcome: string;
      try {
        const jws = decodeJws(entry.assertion);
        const alg = String(jws.header.alg);
        let key;
        try {
          key =
            defs[entry.client].method === 'client_secret_jwt'
              ? new TextEncoder().encode(HMAC_SECRET)
              : keySets[entry.client].key(jws.header);
        } catch {
          key = undefined;
        }
        if (key === undefined) outcome = 'no key';
        else {
          outcome = String(await backend.verify(jws, entry.assertion, alg, key));
          if (outcome === 'true') {
            const [h, p, sig] = entry.assertion.split('.');
            const bytes = Buffer.from(sig, 'base64url');
            bytes[bytes.length >> 1] ^= 0x01;
            const flipped = `${h}.${p}.${bytes.toString('base64url')}`;
            if (await backend.verify(decodeJws(flipped), flipped, alg, key))
              wrong.push(`${entry.name}: verifies with a flipped signature byte`);
          }
        }
      } catch {
        outcome = 'malformed';
      }
      got[entry.name] = outcome;
      if (entry.accept && outcome !== 'true') wrong.push(`${entry.name}: ${outcome}`);
    }
    backendOutcomes[mode] = got;
    expect(wrong).toEqual([]);
  });
});

describe('both JwsBackend implementations', () => {
  it('gave every corpus entry the same answer', () => {
    expect(Object.keys(backendOutcomes).sort()).toEqual(['inline', 'threadpool']);
    expect(backendOutcomes.threadpool).toEqual(backendOutcomes.inline);
  });
});

describe.each(MODES)('assertion corpus at the verifier, cryptoMode %s', (mode) => {
  it('every entry gets its expected answer', async () => {
    const settings = resolveServerOptions({ issuer: ISSUER, keyEncryptionKey: TEST_KEK, cryptoMode: mode });
    const clock = new FixedClock(Date.UTC(2026, 0, 1));
    const verifier = new ClientAssertionVerifier(
      settings,
      clock,
      new InMemoryReplayStore(),
      createJwsBackend(settings.cryptoMode),
    );
    const privateKeyJwt = new PrivateKeyJwtStrategy(
      verifier,
      new ClientKeySource(new ClientJwksFetcher(settings, clock)),
    );
    const hmacKeys = async () => [new TextEncoder().encode(HMAC_SECRET)];
    const defs = corpusClients(keys);
    const record = (name: CorpusClient, version: number): ClientRecord => ({
      clientId: `corpus-${name}`,
      clientName: null,
      tokenEndpointAuthMethod: defs[name].method,
      tokenEndpointAuthSigningAlg: null,
      grantTypes: ['client_credentials'],
      scope: '',
      resources: [],
      maxScope: null,
      maxResources: null,
      allowedMethods: null,
      jwks: defs[name].jwks ? JSON.parse(JSON.stringify(defs[name].jwks)) : null,
      jwksUri: null,
      federatedCredentials: [],
      contacts: [],
      clientUri: null,
      softwareId: null,
      softwareVersion: null,
      registrationAccessTokenHash: null,
      clientIdIssuedAt: 0,
      updatedAt: 0,
      version,
    });
    const names = Object.keys(defs) as CorpusClient[];
    const clients = Object.fromEntries(names.map((n, i) => [n, record(n, i + 1)])) as Record<
      CorpusClient,
      ClientRecord
    >;
    const corpus = buildCorpus(keys, {
      issuer: ISSUER,
      clientIds: Object.fromEntries(names.map((n) => [n, clients[n].clientId])) as Record<CorpusClient, string>,
      now: clock.nowSeconds(),
      hmacSecret: HMAC_SECRET,
    });
    const got: Record<string, boolean> = {};
    const wrong: string[] = [];
    for (const entry of corpus) {
      const client = clients[entry.client];
      let accepted: boolean;
      let reason = '';
      try {
        if (client.tokenEndpointAuthMethod === 'private_key_jwt')
          await privateKeyJwt.verify(
            { client, secrets: [] },
            { method: 'jwt', clientId: client.clientId, assertion: entry.assertion },
          );
        else await verifier.verify(client, verifier.open(client, entry.assertion, isHmacAlg), await hmacKeys());
        accepted = true;
      } catch (e) {
        if (!(e instanceof OAuthError) || e.code !== 'invalid_client') throw e;
        accepted = false;
        reason = `${e.reason}: ${e.detail}`;
      }
      got[entry.name] = accepted;
      if (accepted !== entry.accept) wrong.push(`${entry.name}: ${accepted ? 'accepted' : `refused (${reason})`}`);
    }
    outcomes[`verifier:${mode}`] = got;
    expect(wrong).toEqual([]);
  });
});

describe.each(MODES)('assertion corpus over HTTP, CRYPTO_MODE=%s', (mode) => {
  let t: TestApp;
  afterAll(async () => t?.close());

  it('every entry gets its expected answer: a token, or 401 invalid_client', async () => {
    t = await createTestApp({ env: { CRYPTO_MODE: mode } });
    const defs = corpusClients(keys);
    const names = Object.keys(defs) as CorpusClient[];
    const ids = {} as Record<CorpusClient, string>;
    let hmacSecret = '';
    for (const n of names) {
      const c = await createClient(t, {
        tokenEndpointAuthMethod: defs[n].method,
        ...(defs[n].jwks ? { jwks: JSON.parse(JSON.stringify(defs[n].jwks)) } : {}),
      });
      ids[n] = c.clientId;
      if (n === 'hmac') hmacSecret = c.clientSecret;
    }
    const corpus = buildCorpus(keys, { issuer: t.issuer, clientIds: ids, now: t.clock.nowSeconds(), hmacSecret });
    const got: Record<string, boolean> = {};
    const wrong: string[] = [];
    for (const entry of corpus) {
      const res = await tokenWithAssertion(t, entry.assertion);
      const accepted = res.status === 200 && typeof res.json.access_token === 'string';
      if (!accepted)
        expect({ status: res.status, error: res.json.error }).toEqual({ status: 401, error: 'invalid_client' });
      got[entry.name] = accepted;
      if (accepted !== entry.accept) wrong.push(`${entry.name}: ${accepted ? 'accepted' : 'refused'}`);
    }
    outcomes[`http:${mode}`] = got;
    expect(wrong).toEqual([]);
  });
});

describe('both crypto paths', () => {
  it('gave every entry the same answer, at the verifier and over HTTP', () => {
    expect(Object.keys(outcomes).sort()).toEqual([
      'http:inline',
      'http:threadpool',
      'verifier:inline',
      'verifier:threadpool',
    ]);
    const reference = outcomes['verifier:inline'];
    for (const run of Object.values(outcomes)) expect(run).toEqual(reference);
  });
});

import { createHmac, generateKeyPairSync, randomUUID, sign, constants, type KeyObject } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';

/**
 * One corpus of crafted client assertions with the expected outcome, run through both crypto paths
 * (CRYPTO_MODE inline: node:crypto; threadpool: jose/WebCrypto), at the verifier and over HTTP. Both
 * paths must give every entry the same, expected answer.
 */
export type CorpusClient = 'one' | 'two' | 'twoNoKid' | 'mixed' | 'rsa' | 'ed' | 'hmac';

export interface CorpusEntry {
  name: string;
  client: CorpusClient;
  assertion: string;
  accept: boolean;
}

interface PairKey {
  privateKey: KeyObject;
  jwk: JWK;
}

export interface CorpusKeys {
  esA: PairKey;
  esB: PairKey;
  esC: PairKey;
  esD: PairKey;
  rsa: PairKey;
  ed: PairKey;
  attacker: PairKey;
}

function pair(type: 'ec' | 'rsa' | 'ed25519', extra: Record<string, unknown> = {}): PairKey {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return { privateKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), ...extra } };
}

export function corpusKeys(): CorpusKeys {
  return {
    esA: pair('ec', { kid: 'a' }),
    esB: pair('ec', { kid: 'b' }),
    esC: pair('ec'),
    esD: pair('ec'),
    // No `alg` member: the RSA key serves RS256 and PS256.
    rsa: pair('rsa', { kid: 'r' }),
    ed: pair('ed25519'),
    attacker: pair('ec', { kid: 'a' }),
  };
}

/** The clients of the corpus: method and keys. */
export function corpusClients(
  k: CorpusKeys,
): Record<CorpusClient, { method: 'private_key_jwt' | 'client_secret_jwt'; jwks?: JSONWebKeySet }> {
  return {
    one: { method: 'private_key_jwt', jwks: { keys: [k.esA.jwk] } },
    // Two keys of one algorithm, both with kid: the state of a key roll.
    two: { method: 'private_key_jwt', jwks: { keys: [k.esA.jwk, k.esB.jwk] } },
    twoNoKid: { method: 'private_key_jwt', jwks: { keys: [k.esC.jwk, k.esD.jwk] } },
    // One key per algorithm, no kid: the algorithm alone selects the key.
    mixed: { method: 'private_key_jwt', jwks: { keys: [k.esC.jwk, { ...k.rsa.jwk, kid: undefined } as JWK] } },
    rsa: { method: 'private_key_jwt', jwks: { keys: [k.rsa.jwk] } },
    ed: { method: 'private_key_jwt', jwks: { keys: [k.ed.jwk] } },
    hmac: { method: 'client_secret_jwt' },
  };
}

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

function signature(alg: string, input: Buffer, key: KeyObject | string): Buffer {
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('HS'))
    return createHmac(hash, key as string)
      .update(input)
      .digest();
  if (alg.startsWith('ES')) return sign(hash, input, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('RS')) return sign(hash, input, key as KeyObject);
  if (alg.startsWith('PS'))
    return sign(hash, input, {
      key: key as KeyObject,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(2)) / 8,
    });
  return sign(null, input, key as KeyObject); // EdDSA / Ed25519
}

export interface CorpusContext {
  issuer: string;
  clientIds: Record<CorpusClient, string>;
  /** Seconds: the verifier's clock. */
  now: number;
  hmacSecret: string;
  /** The lifetime cap and skew in force (defaults 300 and 30). */
  cap?: number;
  skew?: number;
}

/** Builds the corpus afresh (new jtis) for one run. */
export function buildCorpus(k: CorpusKeys, ctx: CorpusContext): CorpusEntry[] {
  const cap = ctx.cap ?? 300;
  const skew = ctx.skew ?? 30;
  const entries: CorpusEntry[] = [];
  const claimsFor = (client: CorpusClient, over: Record<string, unknown> = {}) => {
    const claims: Record<string, unknown> = {
      iss: ctx.clientIds[client],
      sub: ctx.clientIds[client],
      aud: ctx.issuer,
      jti: randomUUID(),
      iat: ctx.now,
      exp: ctx.now + 60,
      ...over,
    };
    for (const key of Object.keys(claims)) if (claims[key] === undefined) delete claims[key];
    return claims;
  };
  /** A JWS whose parts may be tampered with after signing. */
  const jws = (o: {
    client: CorpusClient;
    alg: string;
    key: KeyObject | string;
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    rawHeader?: string;
    rawPayload?: string;
    /** Signing input built from the raw payload (b64: false, RFC 7797). */
    unencodedPayload?: boolean;
    tamper?: (parts: { h: string; p: string; s: Buffer; sig: string }) => string;
  }) => {
    const header = { alg: o.alg, ...o.header };
    for (const key of Object.keys(header))
      if ((header as Record<string, unknown>)[key] === undefined) delete (header as Record<string, unknown>)[key];
    const h = o.rawHeader ?? b64(JSON.stringify(header));
    const payloadJson = o.rawPayload ?? JSON.stringify(claimsFor(o.client, o.claims));
    const p = b64(payloadJson);
    const s = signature(o.alg, Buffer.from(o.unencodedPayload ? `${h}.${payloadJson}` : `${h}.${p}`), o.key);
    const sig = s.toString('base64url');
    return o.tamper ? o.tamper({ h, p, s, sig }) : `${h}.${p}.${sig}`;
  };
  const add = (name: string, client: CorpusClient, accept: boolean, assertion: string) =>
    entries.push({ name, client, assertion, accept });
  const A = { alg: 'ES256', key: k.esA.privateKey };

  // Keys: at most one key per assertion; without kid exactly one key may fit the algorithm.
  add('one key, kid named', 'one', true, jws({ client: 'one', ...A, header: { kid: 'a' } }));
  add('one key, no kid', 'one', true, jws({ client: 'one', ...A }));
  add('one key, unknown kid', 'one', false, jws({ client: 'one', ...A, header: { kid: 'zz' } }));
  add('one key, kid not a string', 'one', false, jws({ client: 'one', ...A, header: { kid: 5 } }));
  add('two keys of one alg, kid a', 'two', true, jws({ client: 'two', ...A, header: { kid: 'a' } }));
  add(
    'two keys of one alg, kid b',
    'two',
    true,
    jws({ client: 'two', alg: 'ES256', key: k.esB.privateKey, header: { kid: 'b' } }),
  );
  add('two keys of one alg, no kid, signed by the first', 'two', false, jws({ client: 'two', ...A }));
  add(
    'two keys of one alg, no kid, signed by the second',
    'two',
    false,
    jws({ client: 'two', alg: 'ES256', key: k.esB.privateKey }),
  );
  add(
    'two keys of one alg without kids, no kid',
    'twoNoKid',
    false,
    jws({ client: 'twoNoKid', alg: 'ES256', key: k.esD.privateKey }),
  );
  add(
    'one EC and one RSA key, ES256 without kid',
    'mixed',
    true,
    jws({ client: 'mixed', alg: 'ES256', key: k.esC.privateKey }),
  );
  add(
    'one EC and one RSA key, RS256 without kid',
    'mixed',
    true,
    jws({ client: 'mixed', alg: 'RS256', key: k.rsa.privateKey }),
  );
  add(
    'kid a, signed by an attacker key',
    'one',
    false,
    jws({ client: 'one', alg: 'ES256', key: k.attacker.privateKey, header: { kid: 'a' } }),
  );
  add(
    'attacker key embedded as jwk',
    'one',
    false,
    jws({ client: 'one', alg: 'ES256', key: k.attacker.privateKey, header: { jwk: k.attacker.jwk } }),
  );

  // JWS form: one parser for both paths.
  add('b64: false without crit', 'one', false, jws({ client: 'one', ...A, header: { b64: false } }));
  add(
    'b64: false without crit, unencoded signing input',
    'one',
    false,
    jws({ client: 'one', ...A, header: { b64: false }, unencodedPayload: true }),
  );
  add(
    'b64: false with crit [b64]',
    'one',
    false,
    jws({ client: 'one', ...A, header: { b64: false, crit: ['b64'] }, unencodedPayload: true }),
  );
  add('b64: true without crit', 'one', false, jws({ client: 'one', ...A, header: { b64: true } }));
  add('crit [exp]', 'one', false, jws({ client: 'one', ...A, header: { crit: ['exp'] } }));
  add('crit []', 'one', false, jws({ client: 'one', ...A, header: { crit: [] } }));
  add(
    'trailing = on the signature',
    'one',
    false,
    jws({ client: 'one', ...A, tamper: ({ h, p, sig }) => `${h}.${p}.${sig}=` }),
  );
  add(
    'trailing == on the signature',
    'one',
    false,
    jws({ client: 'one', ...A, tamper: ({ h, p, sig }) => `${h}.${p}.${sig}==` }),
  );
  add(
    'signature in padded standard base64',
    'rsa',
    false,
    jws({
      client: 'rsa',
      alg: 'RS256',
      key: k.rsa.privateKey,
      tamper: ({ h, p, s }) => `${h}.${p}.${s.toString('base64')}`,
    }),
  );
  add(
    'padded header segment',
    'one',
    false,
    jws({ client: 'one', ...A, rawHeader: `${b64(JSON.stringify({ alg: 'ES256', kid: 'a' }))}=` }),
  );
  add(
    'whitespace inside the signature',
    'one',
    false,
    jws({ client: 'one', ...A, tamper: ({ h, p, sig }) => `${h}.${p}.${sig.slice(0, 10)} ${sig.slice(10)}` }),
  );
  add(
    'ES256 signature DER-encoded',
    'one',
    false,
    jws({
      client: 'one',
      ...A,
      tamper: ({ h, p }) =>
        `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), k.esA.privateKey).toString('base64url')}`,
    }),
  );
  add(
    'ES256 signature with a byte appended',
    'one',
    false,
    jws({
      client: 'one',
      ...A,
      tamper: ({ h, p, s }) => `${h}.${p}.${Buffer.concat([s, Buffer.from([0])]).toString('base64url')}`,
    }),
  );
  add(
    'RS256 signature with a leading zero byte',
    'rsa',
    false,
    jws({
      client: 'rsa',
      alg: 'RS256',
      key: k.rsa.privateKey,
      tamper: ({ h, p, s }) => `${h}.${p}.${Buffer.concat([Buffer.from([0]), s]).toString('base64url')}`,
    }),
  );
  add(
    'a fourth segment',
    'one',
    false,
    jws({ client: 'one', ...A, tamper: ({ h, p, sig }) => `${h}.${p}.${sig}.e30` }),
  );
  add('payload not a JSON object', 'one', false, jws({ client: 'one', ...A, rawPayload: '["x"]' }));
  add('header not a JSON object', 'one', false, jws({ client: 'one', ...A, rawHeader: b64('"ES256"') }));
  add('alg none', 'one', false, `${b64(JSON.stringify({ alg: 'none' }))}.${b64(JSON.stringify(claimsFor('one')))}.`);
  add(
    'alg HS256 keyed with the public JWK',
    'one',
    false,
    jws({ client: 'one', alg: 'HS256', key: JSON.stringify(k.esA.jwk) }),
  );

  // Algorithms and keys.
  add('RS256', 'rsa', true, jws({ client: 'rsa', alg: 'RS256', key: k.rsa.privateKey, header: { kid: 'r' } }));
  add('PS256', 'rsa', true, jws({ client: 'rsa', alg: 'PS256', key: k.rsa.privateKey, header: { kid: 'r' } }));
  add('PS384 without kid', 'rsa', true, jws({ client: 'rsa', alg: 'PS384', key: k.rsa.privateKey }));
  add(
    'RS256 signature presented as PS256',
    'rsa',
    false,
    jws({ client: 'rsa', alg: 'RS256', key: k.rsa.privateKey, header: { alg: 'PS256' } }),
  );
  add('EdDSA', 'ed', true, jws({ client: 'ed', alg: 'EdDSA', key: k.ed.privateKey }));
  add('Ed25519', 'ed', true, jws({ client: 'ed', alg: 'Ed25519', key: k.ed.privateKey }));
  add('ES256 header on an Ed25519 client', 'ed', false, jws({ client: 'ed', ...A }));
  add('HS256', 'hmac', true, jws({ client: 'hmac', alg: 'HS256', key: ctx.hmacSecret }));
  add('HS512', 'hmac', true, jws({ client: 'hmac', alg: 'HS512', key: ctx.hmacSecret }));
  add(
    'HS256, trailing = on the signature',
    'hmac',
    false,
    jws({ client: 'hmac', alg: 'HS256', key: ctx.hmacSecret, tamper: ({ h, p, sig }) => `${h}.${p}.${sig}=` }),
  );
  add(
    'HS256, b64: false without crit',
    'hmac',
    false,
    jws({ client: 'hmac', alg: 'HS256', key: ctx.hmacSecret, header: { b64: false } }),
  );
  add(
    'HS256, truncated MAC',
    'hmac',
    false,
    jws({
      client: 'hmac',
      alg: 'HS256',
      key: ctx.hmacSecret,
      tamper: ({ h, p, s }) => `${h}.${p}.${s.subarray(0, 16).toString('base64url')}`,
    }),
  );
  add('HS256 on a private_key_jwt client', 'one', false, jws({ client: 'one', alg: 'HS256', key: ctx.hmacSecret }));

  // Lifetime: by iat when present, else by exp.
  add(
    'iat now, exp +3600 (authlib default)',
    'one',
    true,
    jws({ client: 'one', ...A, claims: { exp: ctx.now + 3600 } }),
  );
  add(
    `iat ${cap + skew} s ago, exp ahead`,
    'one',
    true,
    jws({ client: 'one', ...A, claims: { iat: ctx.now - cap - skew, exp: ctx.now + 3600 } }),
  );
  add(
    `iat ${cap + skew + 1} s ago, exp ahead`,
    'one',
    false,
    jws({ client: 'one', ...A, claims: { iat: ctx.now - cap - skew - 1, exp: ctx.now + 3600 } }),
  );
  add('iat in the future beyond skew', 'one', false, jws({ client: 'one', ...A, claims: { iat: ctx.now + skew + 1 } }));
  add(
    `no iat, exp +${cap + skew}`,
    'one',
    true,
    jws({ client: 'one', ...A, claims: { iat: undefined, exp: ctx.now + cap + skew } }),
  );
  add(
    `no iat, exp +${cap + skew + 1}`,
    'one',
    false,
    jws({ client: 'one', ...A, claims: { iat: undefined, exp: ctx.now + cap + skew + 1 } }),
  );
  add(
    'iat recent, exp passed',
    'one',
    false,
    jws({ client: 'one', ...A, claims: { iat: ctx.now - 100, exp: ctx.now - skew } }),
  );
  add(
    'typ client-authentication+jwt',
    'one',
    true,
    jws({ client: 'one', ...A, header: { typ: 'client-authentication+jwt' } }),
  );
  add('typ at+jwt', 'one', false, jws({ client: 'one', ...A, header: { typ: 'at+jwt' } }));
  return entries;
}

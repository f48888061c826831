import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { ClientRecord } from '../clients/client.record.js';
import { OAuthError } from '../errors/oauth-error.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { ASYMMETRIC_ALGS, HMAC_ALGS, isAsymmetricAlg, isHmacAlg } from '../shared/jose-algorithms.js';
import { resolveCryptoMode } from '../token/jws-signer.js';
import { ClientKeySource } from './client-key.source.js';
import { decodeJws, InlineJwsError, verifyAsymmetric, verifyHmac, type DecodedJws } from './inline-jws.js';
import { ReplayStore } from './replay.store.js';

const ACCEPTED_TYP = new Set(['jwt', 'client-authentication+jwt', 'application/client-authentication+jwt']);

/** The keys an assertion may be verified with: the client's HMAC secrets, or its public keys. */
export type AssertionKeys = { kind: 'hmac'; secrets: Uint8Array[] } | { kind: 'asymmetric' };

/**
 * Verifies a client assertion (RFC 7523 §3, draft-ietf-oauth-rfc7523bis): algorithm family per
 * method, signature, `iss` = `sub` = client_id, `aud` = the issuer as its sole value, `exp` required
 * and capped, `nbf`/`iat` honoured, `jti` required and consumed atomically (single use per client).
 * Signatures are checked by jose (WebCrypto, off the main thread) or inline with node:crypto on a
 * single-core process (see `cryptoMode`); the claim rules are the same code either way.
 * Every failure is `invalid_client` with the real reason in `detail`.
 */
@Injectable()
export class AssertionVerifier {
  private readonly audiences: ReadonlySet<string>;
  private readonly inline: boolean;

  constructor(
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
    private readonly clock: Clock,
    private readonly replay: ReplayStore,
    private readonly keySource: ClientKeySource,
  ) {
    this.audiences = new Set(settings.assertionAudience === 'legacy' ? [settings.issuer, settings.tokenEndpoint] : [settings.issuer]);
    this.inline = resolveCryptoMode(settings.cryptoMode) === 'inline';
  }

  /** The unverified `iss`/`sub` of an assertion (to find the client), or a failure. */
  static peekClientId(assertion: string): string {
    try {
      const [, payload] = assertion.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JWTPayload;
      if (typeof claims.sub === 'string' && claims.sub !== '') return claims.sub;
      if (typeof claims.iss === 'string' && claims.iss !== '') return claims.iss;
    } catch {
      /* fall through */
    }
    throw OAuthError.invalidClient('client_assertion is not a decodable JWT with iss/sub');
  }

  async verify(client: ClientRecord, assertion: string, keys: AssertionKeys): Promise<JWTPayload> {
    const fail = (reason: string) => OAuthError.invalidClient(`client_assertion rejected: ${reason}`);
    if (assertion.length > this.settings.limits.assertionLength) throw fail('too long');

    // Decoded once: the inline path keeps the parsed JWS for its signature check.
    let jws: DecodedJws | undefined;
    let header: { alg?: string; typ?: unknown };
    try {
      if (this.inline) header = (jws = decodeJws(assertion)).header as typeof header;
      else header = decodeProtectedHeader(assertion);
    } catch (e) {
      throw fail(e instanceof InlineJwsError ? e.message : 'malformed JWS header');
    }
    const alg = header.alg;
    const asymmetric = client.tokenEndpointAuthMethod === 'private_key_jwt';
    if (asymmetric ? !isAsymmetricAlg(alg) : !isHmacAlg(alg)) throw fail(`alg ${String(alg)} not allowed for ${client.tokenEndpointAuthMethod}`);
    if (client.tokenEndpointAuthSigningAlg && alg !== client.tokenEndpointAuthSigningAlg) throw fail(`alg ${alg} differs from the registered ${client.tokenEndpointAuthSigningAlg}`);
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !ACCEPTED_TYP.has(header.typ.toLowerCase()))) throw fail(`typ ${String(header.typ)} not accepted`);
    if (asymmetric !== (keys.kind === 'asymmetric')) throw fail('key material does not fit the method');

    const payload = jws ? await this.verifyInline(client, jws, alg as string, keys) : await this.verifyWithJose(client, assertion, asymmetric, keys);
    if (typeof payload === 'string') throw fail(payload);

    const reason = this.claimProblem(client, payload);
    if (reason) throw fail(reason);
    // Single use, atomically, per client; remembered until the assertion can no longer be accepted.
    // A NumericDate may have a fraction (RFC 7519 §2); the stores keep whole seconds (bigint, Redis EX).
    if (!(await this.replay.consume(client.clientId, payload.jti as string, Math.ceil(payload.exp as number) + this.settings.clockSkew))) throw fail('jti already used');
    return payload;
  }

  /** The claim rules (RFC 7523 §3 and Clavis's stricter ones); the reason of the first failure, or undefined. */
  private claimProblem(client: ClientRecord, payload: JWTPayload): string | undefined {
    const now = this.clock.nowSeconds();
    const skew = this.settings.clockSkew;
    const isTime = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    if (payload.iss !== client.clientId) return 'iss is not the client_id';
    if (payload.sub !== client.clientId) return 'sub is not the client_id';
    if (!isTime(payload.exp)) return 'exp missing or not a number';
    if ((payload.exp as number) <= now - skew) return 'expired';
    if ((payload.exp as number) > now + this.settings.assertionMaxLifetime + skew) return `exp more than ${this.settings.assertionMaxLifetime}s ahead`;
    if (payload.nbf !== undefined && (!isTime(payload.nbf) || (payload.nbf as number) > now + skew)) return 'nbf invalid or in the future';
    if (payload.iat !== undefined && (!isTime(payload.iat) || (payload.iat as number) > now + skew)) return 'iat invalid or in the future';
    const aud = payload.aud;
    const sole = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 ? aud[0] : undefined;
    if (typeof sole !== 'string' || !this.audiences.has(sole)) return 'aud must be the issuer identifier as its sole value';
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) return 'jti missing or invalid';
    return undefined;
  }

  /** jose (WebCrypto): signature and jose's own claim checks. The payload, or the failure reason. */
  private async verifyWithJose(client: ClientRecord, assertion: string, asymmetric: boolean, keys: AssertionKeys): Promise<JWTPayload | string> {
    const options = {
      algorithms: client.tokenEndpointAuthSigningAlg ? [client.tokenEndpointAuthSigningAlg] : asymmetric ? [...ASYMMETRIC_ALGS] : [...HMAC_ALGS],
      issuer: client.clientId,
      subject: client.clientId,
      clockTolerance: this.settings.clockSkew,
      currentDate: this.clock.date(),
      requiredClaims: ['exp', 'jti'],
    };
    let lastError: unknown;
    for (const key of keys.kind === 'hmac' ? keys.secrets : [this.keySource.keyResolver(client)]) {
      try {
        return (await jwtVerify(assertion, key as Parameters<typeof jwtVerify>[1], options)).payload;
      } catch (e) {
        lastError = e;
      }
    }
    return describe(lastError);
  }

  /** node:crypto on the main thread. The payload, or the failure reason. */
  private async verifyInline(client: ClientRecord, jws: DecodedJws, alg: string, keys: AssertionKeys): Promise<JWTPayload | string> {
    if (keys.kind === 'hmac') {
      for (const secret of keys.secrets) if (verifyHmac(alg, jws, secret)) return jws.payload as JWTPayload;
      return 'signature verification failed';
    }
    let candidates;
    try {
      candidates = await this.keySource.candidates(client, jws.header);
    } catch (e) {
      return describe(e);
    }
    for (const key of candidates) if (verifyAsymmetric(alg, jws, key)) return jws.payload as JWTPayload;
    return 'signature verification failed';
  }
}

function describe(error: unknown): string {
  if (error instanceof joseErrors.JOSEError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : 'verification failed';
}

import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { compactVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { ClientRecord } from '../clients/client.record.js';
import { OAuthError } from '../errors/oauth-error.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { isAsymmetricAlg, isHmacAlg } from '../shared/jose-algorithms.js';
import { resolveCryptoMode } from '../token/jws-signer.js';
import { ClientKeySource } from './client-key.source.js';
import { decodeJws, InlineJwsError, verifyAsymmetric, verifyHmac, type DecodedJws } from './inline-jws.js';
import { ReplayStore } from './replay.store.js';

const ACCEPTED_TYP = new Set(['jwt', 'client-authentication+jwt', 'application/client-authentication+jwt']);

/** The keys an assertion may be verified with: the client's HMAC secrets, or its public keys. */
export type AssertionKeys = { kind: 'hmac'; secrets: Uint8Array[] } | { kind: 'asymmetric' };

/**
 * Verifies a client assertion (RFC 7523 §3, draft-ietf-oauth-rfc7523bis): algorithm family per
 * method, signature with at most one key, `iss` = `sub` = client_id, `aud` = the issuer as its sole
 * value, `exp` required, usable for at most `assertionMaxLifetime` after `iat` (or, without `iat`,
 * `exp` at most that far ahead), `nbf` honoured, `jti` required and consumed atomically (single use
 * per client). Signatures are checked by jose (WebCrypto, off the main thread) or inline with
 * node:crypto on a single-core process (see `cryptoMode`); parsing, key selection and the claim
 * rules are the same code either way.
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

    // One parser for both crypto paths, so that both accept exactly the same JWS forms (no `crit`,
    // no `b64`, unpadded base64url, JSON objects); only the signature check differs (docs/adr/0011-one-key-per-assertion.md).
    let jws: DecodedJws;
    try {
      jws = decodeJws(assertion);
    } catch (e) {
      throw fail(e instanceof InlineJwsError ? e.message : 'malformed JWS');
    }
    const header = jws.header as { alg?: unknown; typ?: unknown };
    const alg = header.alg;
    const asymmetric = client.tokenEndpointAuthMethod === 'private_key_jwt';
    if (asymmetric ? !isAsymmetricAlg(alg) : !isHmacAlg(alg)) throw fail(`alg ${String(alg)} not allowed for ${client.tokenEndpointAuthMethod}`);
    if (client.tokenEndpointAuthSigningAlg && alg !== client.tokenEndpointAuthSigningAlg) throw fail(`alg ${alg} differs from the registered ${client.tokenEndpointAuthSigningAlg}`);
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !ACCEPTED_TYP.has(header.typ.toLowerCase()))) throw fail(`typ ${String(header.typ)} not accepted`);
    if (asymmetric !== (keys.kind === 'asymmetric')) throw fail('key material does not fit the method');

    const problem = await this.signatureProblem(client, assertion, jws, alg as string, keys);
    if (problem) throw fail(problem);
    const payload = jws.payload as JWTPayload;

    const reason = this.claimProblem(client, payload);
    if (reason) throw fail(reason);
    // Single use, atomically, per client; remembered until the assertion can no longer be accepted.
    if (!(await this.replay.consume(client.clientId, payload.jti as string, this.rememberUntil(payload)))) throw fail('jti already used');
    return payload;
  }

  /**
   * Until when a used `jti` must be remembered: the last second at which its assertion could still
   * be accepted, min(exp, iat + cap) + skew. A NumericDate may have a fraction (RFC 7519 §2); the
   * stores keep whole seconds (bigint, Redis EX), so it is rounded up.
   */
  rememberUntil(payload: JWTPayload): number {
    const exp = payload.exp as number;
    const last = payload.iat === undefined ? exp : Math.min(exp, (payload.iat as number) + this.settings.assertionMaxLifetime);
    return Math.ceil(last) + this.settings.clockSkew;
  }

  /** The claim rules (RFC 7523 §3 and Clavis's stricter ones); the reason of the first failure, or undefined. */
  private claimProblem(client: ClientRecord, payload: JWTPayload): string | undefined {
    const now = this.clock.nowSeconds();
    const skew = this.settings.clockSkew;
    const cap = this.settings.assertionMaxLifetime;
    const isTime = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    if (payload.iss !== client.clientId) return 'iss is not the client_id';
    if (payload.sub !== client.clientId) return 'sub is not the client_id';
    if (!isTime(payload.exp)) return 'exp missing or not a number';
    if ((payload.exp as number) <= now - skew) return 'expired';
    if (payload.nbf !== undefined && (!isTime(payload.nbf) || (payload.nbf as number) > now + skew)) return 'nbf invalid or in the future';
    if (payload.iat !== undefined && (!isTime(payload.iat) || (payload.iat as number) > now + skew)) return 'iat invalid or in the future';
    // Usable for at most `cap` after it was made: by iat when present (exp may lie further ahead,
    // as authlib's default of +3600 s does), else by exp (docs/adr/0011-one-key-per-assertion.md).
    if (payload.iat !== undefined) {
      if (now - (payload.iat as number) > cap + skew) return `iat more than ${cap}s ago`;
    } else if ((payload.exp as number) > now + cap + skew) return `exp more than ${cap}s ahead (and no iat)`;
    const aud = payload.aud;
    const sole = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 ? aud[0] : undefined;
    if (typeof sole !== 'string' || !this.audiences.has(sole)) return 'aud must be the issuer identifier as its sole value';
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) return 'jti missing or invalid';
    return undefined;
  }

  /**
   * The signature check: with HMAC each valid secret of the client (the current one and, during a
   * rotation overlap, the previous one); otherwise the one key {@link ClientKeySource.key} selects.
   * jose (WebCrypto, off the main thread) or node:crypto on the main thread, per `cryptoMode`.
   * The failure reason, or undefined.
   */
  private async signatureProblem(client: ClientRecord, assertion: string, jws: DecodedJws, alg: string, keys: AssertionKeys): Promise<string | undefined> {
    let candidates: (Uint8Array | KeyObject)[];
    if (keys.kind === 'hmac') candidates = keys.secrets;
    else {
      try {
        candidates = [await this.keySource.key(client, jws.header)];
      } catch (e) {
        return describe(e);
      }
    }
    let lastError: unknown;
    for (const key of candidates) {
      if (this.inline) {
        if (key instanceof Uint8Array ? verifyHmac(alg, jws, key) : verifyAsymmetric(alg, jws, key)) return undefined;
        continue;
      }
      try {
        await compactVerify(assertion, key, { algorithms: [alg] });
        return undefined;
      } catch (e) {
        lastError = e;
      }
    }
    return lastError === undefined || lastError instanceof joseErrors.JWSSignatureVerificationFailed ? 'signature verification failed' : describe(lastError);
  }
}

function describe(error: unknown): string {
  if (error instanceof joseErrors.JOSEError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : 'verification failed';
}

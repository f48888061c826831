import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { ClientRecord } from '../clients/client.record.js';
import { OAuthError } from '../errors/oauth-error.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { ASYMMETRIC_ALGS, HMAC_ALGS, isAsymmetricAlg, isHmacAlg } from '../shared/jose-algorithms.js';
import { ReplayStore } from './replay.store.js';

const ACCEPTED_TYP = new Set(['jwt', 'client-authentication+jwt', 'application/client-authentication+jwt']);

/**
 * Verifies a client assertion (RFC 7523 §3, draft-ietf-oauth-rfc7523bis): algorithm family per
 * method, signature, `iss` = `sub` = client_id, `aud` = the issuer as its sole value, `exp` required
 * and capped, `nbf`/`iat` honoured, `jti` required and consumed atomically (single use per client).
 * Every failure is `invalid_client` with the real reason in `detail`.
 */
@Injectable()
export class AssertionVerifier {
  private readonly audiences: ReadonlySet<string>;

  constructor(
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
    private readonly clock: Clock,
    private readonly replay: ReplayStore,
  ) {
    this.audiences = new Set(settings.assertionAudience === 'legacy' ? [settings.issuer, settings.tokenEndpoint] : [settings.issuer]);
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

  /** Verifies with the given keys (one resolver for private_key_jwt; one key per valid secret for client_secret_jwt). */
  async verify(client: ClientRecord, assertion: string, keys: JWTVerifyGetKey | Uint8Array[]): Promise<JWTPayload> {
    const fail = (reason: string) => OAuthError.invalidClient(`client_assertion rejected: ${reason}`);
    if (assertion.length > this.settings.limits.assertionLength) throw fail('too long');

    let header;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw fail('malformed JWS header');
    }
    const alg = header.alg;
    const asymmetric = client.tokenEndpointAuthMethod === 'private_key_jwt';
    if (asymmetric ? !isAsymmetricAlg(alg) : !isHmacAlg(alg)) throw fail(`alg ${String(alg)} not allowed for ${client.tokenEndpointAuthMethod}`);
    if (client.tokenEndpointAuthSigningAlg && alg !== client.tokenEndpointAuthSigningAlg) throw fail(`alg ${alg} differs from the registered ${client.tokenEndpointAuthSigningAlg}`);
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !ACCEPTED_TYP.has(header.typ.toLowerCase()))) throw fail(`typ ${String(header.typ)} not accepted`);

    const now = this.clock.nowSeconds();
    const options = {
      algorithms: client.tokenEndpointAuthSigningAlg ? [client.tokenEndpointAuthSigningAlg] : asymmetric ? [...ASYMMETRIC_ALGS] : [...HMAC_ALGS],
      issuer: client.clientId,
      subject: client.clientId,
      clockTolerance: this.settings.clockSkew,
      currentDate: this.clock.date(),
      requiredClaims: ['exp', 'jti'],
    };
    let payload: JWTPayload | undefined;
    let lastError: unknown;
    if (Array.isArray(keys)) {
      for (const key of keys) {
        try {
          payload = (await jwtVerify(assertion, key, options)).payload;
          break;
        } catch (e) {
          lastError = e;
        }
      }
    } else {
      try {
        payload = (await jwtVerify(assertion, keys, options)).payload;
      } catch (e) {
        lastError = e;
      }
    }
    if (!payload) throw fail(describe(lastError));

    const aud = payload.aud;
    const sole = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 ? aud[0] : undefined;
    if (sole === undefined || !this.audiences.has(sole)) throw fail('aud must be the issuer identifier as its sole value');
    if (payload.exp! > now + this.settings.assertionMaxLifetime + this.settings.clockSkew) throw fail(`exp more than ${this.settings.assertionMaxLifetime}s ahead`);
    if (payload.iat !== undefined && payload.iat > now + this.settings.clockSkew) throw fail('iat in the future');
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) throw fail('jti missing or invalid');

    // Single use, atomically, per client; remembered until the assertion can no longer be accepted.
    // A NumericDate may have a fraction (RFC 7519 §2); the stores keep whole seconds (bigint, Redis EX).
    if (!(await this.replay.consume(client.clientId, payload.jti, Math.ceil(payload.exp!) + this.settings.clockSkew))) throw fail('jti already used');
    return payload;
  }
}

function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) return `${String((error as { code: string }).code)}: ${String((error as { message?: unknown }).message)}`;
  return error instanceof Error ? error.message : 'verification failed';
}

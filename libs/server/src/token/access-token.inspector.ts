import { Inject, Injectable } from '@nestjs/common';
import {
  createLocalJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { ClientStore } from '../clients/client.store.js';
import { SigningKeyService } from '../keys/signing-key.service.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { DenyList } from './deny-list.js';

/**
 * Decides whether one of our access tokens is active: signed by a published server key, `typ`
 * at+jwt, our issuer, not expired, not revoked, and its client still registered.
 * @see RFC 7662 §2.2
 */
@Injectable()
export class AccessTokenInspector {
  private keySet?: { source: object; getKey: JWTVerifyGetKey };

  constructor(
    private readonly keys: SigningKeyService,
    private readonly denyList: DenyList,
    private readonly clients: ClientStore,
    private readonly clock: Clock,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  /** The verified claims, or null when the token is not (or no longer) a valid access token. */
  async verify(token: string): Promise<JWTPayload | null> {
    if (token.length > 16_384) return null;
    try {
      return await this.verifyWith(await this.keys.jwks(), token);
    } catch (e) {
      // A key another instance has just activated: re-read the key table once, then decide.
      if (!(e instanceof joseErrors.JWKSNoMatchingKey)) return null;
      return this.verifyWith(await this.keys.freshJwks(), token).catch(() => null);
    }
  }

  private async verifyWith(jwks: { keys: JWK[] }, token: string): Promise<JWTPayload> {
    if (this.keySet?.source !== jwks) this.keySet = { source: jwks, getKey: createLocalJWKSet(jwks) };
    const { payload } = await jwtVerify(token, this.keySet.getKey, {
      issuer: this.settings.issuer,
      typ: 'at+jwt',
      clockTolerance: 0,
      currentDate: this.clock.date(),
      requiredClaims: ['exp', 'jti', 'client_id'],
    });
    return payload;
  }

  /** Claims of an active token (also checks the deny list and that the client exists), else null. */
  async inspect(token: string): Promise<JWTPayload | null> {
    const payload = await this.verify(token);
    if (!payload) return null;
    if (await this.isRevoked(payload.jti!, String(payload.client_id))) return null;
    return payload;
  }

  /**
   * Whether a verified token no longer counts: its `jti` is on the deny list, or its client has been
   * deleted. The check an in-process resource guard makes after verifying the signature (its
   * `isRevoked` hook), so that a deleted client's tokens end there too, not only at introspection.
   * @see docs/adr/0012-edge-trust-and-revocation.md
   */
  async isRevoked(jti: string, clientId: string): Promise<boolean> {
    if (await this.denyList.isRevoked(jti)) return true;
    return (await this.clients.findById(clientId)) === null;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SigningKeyService } from '../keys/signing-key.service.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';

export interface IssuedAccessToken {
  accessToken: string;
  jti: string;
  expiresIn: number;
  scope: string;
  aud: string | string[];
}

/**
 * Issues RFC 9068 JWT access tokens (`typ: at+jwt`) signed with the active server key.
 * @see RFC 9068 §2
 */
@Injectable()
export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeyService,
    private readonly clock: Clock,
    @Inject(SERVER_SETTINGS) private readonly settings: Pick<ServerSettings, 'issuer' | 'accessTokenTtl'>,
  ) {}

  async issue(clientId: string, scope: string, aud: string | string[]): Promise<IssuedAccessToken> {
    const key = await this.keys.activeKey();
    const iat = this.clock.nowSeconds();
    const jti = randomUUID(); // 122 random bits from a pooled source: cheaper than randomBytes per token
    const ttl = this.settings.accessTokenTtl;
    const claims: Record<string, unknown> = {
      iss: this.settings.issuer,
      sub: clientId,
      aud,
      client_id: clientId,
      iat,
      exp: iat + ttl,
      jti,
    };
    if (scope) claims.scope = scope;
    const accessToken = await key.sign({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }, claims);
    return { accessToken, jti, expiresIn: ttl, scope, aud };
  }
}

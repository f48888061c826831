import { Controller, Get, Header, UseFilters } from '@nestjs/common';
import type { JWK } from 'jose';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { SigningKeyService } from './signing-key.service.js';

/** `GET /jwks`: the public signing keys (next, active, retired-but-published). @see RFC 7517 §5 */
@Controller()
@UseFilters(OAuthErrorFilter)
export class JwksController {
  constructor(private readonly keys: SigningKeyService) {}

  @Get('jwks')
  @Header('Content-Type', 'application/jwk-set+json')
  @Header('Cache-Control', 'public, max-age=60')
  jwks(): Promise<{ keys: JWK[] }> {
    return this.keys.jwks();
  }
}

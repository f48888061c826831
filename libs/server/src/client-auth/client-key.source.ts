import { Injectable } from '@nestjs/common';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { ClientRecord } from '../clients/client.record.js';
import { ClientJwksFetcher } from './client-jwks.fetcher.js';

/**
 * Resolves the verification keys of a `private_key_jwt` client: its registered `jwks` (imported
 * once per client version and cached), or its `jwks_uri` through the fetcher.
 */
@Injectable()
export class ClientKeySource {
  private readonly local = new Map<string, { version: number; getKey: JWTVerifyGetKey }>();

  constructor(private readonly fetcher: ClientJwksFetcher) {}

  keyResolver(client: ClientRecord): JWTVerifyGetKey {
    if (client.jwksUri) return this.fetcher.keyResolver(client.jwksUri);
    const cached = this.local.get(client.clientId);
    if (cached && cached.version === client.version) return cached.getKey;
    const getKey = createLocalJWKSet(client.jwks ?? ({ keys: [] } as JSONWebKeySet));
    if (this.local.size > 10_000) this.local.clear();
    this.local.set(client.clientId, { version: client.version, getKey });
    return getKey;
  }
}

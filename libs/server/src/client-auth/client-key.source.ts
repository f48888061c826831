import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import type { ClientRecord } from '../clients/client.record.js';
import { ClientJwksFetcher } from './client-jwks.fetcher.js';
import { ClientKeySet } from './client-key-set.js';

/** Clients whose imported `jwks` are kept (ADR 0028: sized for 100,000 clients in use at once). */
export const MAX_CACHED_CLIENT_KEY_SETS = 100_000;

/**
 * Resolves the verification keys of a `private_key_jwt` client: its registered `jwks` (imported
 * once per client version and cached), or its `jwks_uri` through the fetcher.
 */
@Injectable()
export class ClientKeySource {
  private readonly local = new Map<string, { version: number; keys: ClientKeySet }>();

  constructor(private readonly fetcher: ClientJwksFetcher) {}

  /**
   * The one key that may verify a JWS with this header, for either crypto path (see
   * {@link ClientKeySet.key}); an unknown `kid` refetches a `jwks_uri` at most once per cooldown.
   */
  async key(client: ClientRecord, header: { alg?: unknown; kid?: unknown }): Promise<KeyObject> {
    if (client.jwksUri) return this.fetcher.withKeys(client.jwksUri, (keys) => keys.key(header));
    return this.localKeys(client).key(header);
  }

  private localKeys(client: ClientRecord): ClientKeySet {
    const cached = this.local.get(client.clientId);
    if (cached && cached.version === client.version) return cached.keys;
    const keys = new ClientKeySet(client.jwks ?? ({ keys: [] } as JSONWebKeySet));
    // Bounded, oldest out first: one eviction per miss, never a wholesale clear (which, with more
    // clients than the bound, would re-import every client's keys on every request).
    this.local.delete(client.clientId);
    if (this.local.size >= MAX_CACHED_CLIENT_KEY_SETS) this.local.delete(this.local.keys().next().value!);
    this.local.set(client.clientId, { version: client.version, keys });
    return keys;
  }
}

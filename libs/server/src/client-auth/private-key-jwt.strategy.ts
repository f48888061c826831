import { Injectable } from '@nestjs/common';
import { errors as joseErrors } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { ClientWithSecrets } from '../clients/client.store.js';
import { OAuthError } from '../errors/oauth-error.js';
import { isAsymmetricAlg } from '../shared/jose-algorithms.js';
import type { AuthenticatedClient, ClientAuthStrategy, PresentedCredentials } from './client-auth.strategy.js';
import { ClientAssertionVerifier } from './client-assertion.verifier.js';
import { ClientKeySource } from './client-key.source.js';
import { ClientKeysUnavailableError, keyCredentialId } from './client-key-set.js';

/**
 * `private_key_jwt`: a client assertion signed with an asymmetric algorithm by the one key of the
 * client's `jwks` or `jwks_uri` that fits its header (RFC 7523 §2.2, docs/adr/0011-one-key-per-assertion.md).
 */
@Injectable()
export class PrivateKeyJwtStrategy implements ClientAuthStrategy<'jwt'> {
  readonly method = 'private_key_jwt' as const;
  readonly presentedAs = 'jwt' as const;

  constructor(
    private readonly assertions: ClientAssertionVerifier,
    private readonly keySource: ClientKeySource,
  ) {}

  async verify(
    found: ClientWithSecrets,
    credentials: Extract<PresentedCredentials, { method: 'jwt' }>,
  ): Promise<AuthenticatedClient> {
    const client = found.client;
    const opened = this.assertions.open(client, credentials.assertion, isAsymmetricAlg);
    let key;
    try {
      key = await this.keySource.key(client, opened.header);
    } catch (e) {
      throw keyFailure(e, opened.header.kid !== undefined);
    }
    await this.assertions.verify(client, opened, [key]);
    return { client, credential: { type: 'jwk', id: keyCredentialId(key as KeyObject) } };
  }
}

/** The failure code of a key selection that found no key, several, or could not fetch any. */
export function keyFailure(error: unknown, named: boolean): unknown {
  const detail =
    error instanceof joseErrors.JOSEError
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? error.message
        : 'key selection failed';
  if (error instanceof ClientKeysUnavailableError) return OAuthError.invalidClient('keys_unavailable', detail);
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return OAuthError.invalidClient('key_ambiguous', detail);
  if (error instanceof joseErrors.JWKSNoMatchingKey)
    return OAuthError.invalidClient(named ? 'kid_unknown' : 'key_not_found', detail);
  // A jwks_uri that failed (timeout, non-200, unusable set) without a cached set.
  return OAuthError.invalidClient('keys_unavailable', detail);
}

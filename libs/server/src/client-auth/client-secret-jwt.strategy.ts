import { Injectable } from '@nestjs/common';
import { ClientService } from '../clients/client.service.js';
import type { ClientWithSecrets } from '../clients/client.store.js';
import { isHmacAlg } from '../shared/jose-algorithms.js';
import type { AuthenticatedClient, ClientAuthStrategy, PresentedCredentials } from './client-auth.strategy.js';
import { ClientAssertionVerifier } from './client-assertion.verifier.js';

/**
 * `client_secret_jwt`: a client assertion signed with HMAC (HS256/384/512) by a valid secret of the
 * client — the current one and, during a rotation overlap, the previous one (RFC 7523 §2.2, ADR 0004).
 */
@Injectable()
export class ClientSecretJwtStrategy implements ClientAuthStrategy<'jwt'> {
  readonly method = 'client_secret_jwt' as const;
  readonly presentedAs = 'jwt' as const;

  constructor(
    private readonly clients: ClientService,
    private readonly assertions: ClientAssertionVerifier,
  ) {}

  async verify(
    found: ClientWithSecrets,
    credentials: Extract<PresentedCredentials, { method: 'jwt' }>,
  ): Promise<AuthenticatedClient> {
    const secrets = this.clients.hmacSecrets(found);
    const { key } = await this.assertions.verify(found.client, credentials.assertion, {
      allows: isHmacAlg,
      keys: async () => secrets.map((s) => s.key),
    });
    const secret = secrets.find((s) => s.key === key)!.secret;
    return { client: found.client, credential: { type: 'client_secret', id: secret.id } };
  }
}

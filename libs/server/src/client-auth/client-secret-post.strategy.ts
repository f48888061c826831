import { Injectable } from '@nestjs/common';
import { ClientService } from '../clients/client.service.js';
import type { ClientWithSecrets } from '../clients/client.store.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams } from '../shared/form-body.js';
import type { AuthenticatedClient, ClientAuthStrategy, PresentedCredentials } from './client-auth.strategy.js';

type PostCredentials = Extract<PresentedCredentials, { method: 'client_secret_post' }>;

/** Reads `client_id` and `client_secret` from the form (RFC 6749 §2.3.1). */
export function readPostCredentials(form: FormParams): PostCredentials {
  const clientId = form.get('client_id');
  if (!clientId) throw OAuthError.invalidClient('credentials_malformed', 'client_secret without client_id');
  return { method: 'client_secret_post', clientId, secret: form.get('client_secret') as string };
}

/** `client_secret_post`: the form's secret matches a valid secret of the client (RFC 6749 §2.3.1). */
@Injectable()
export class ClientSecretPostStrategy implements ClientAuthStrategy<'client_secret_post'> {
  readonly method = 'client_secret_post' as const;
  readonly presentedAs = 'client_secret_post' as const;

  constructor(private readonly clients: ClientService) {}

  async verify(found: ClientWithSecrets, credentials: PostCredentials): Promise<AuthenticatedClient> {
    const secret = this.clients.matchingSecret(found, credentials.secret);
    if (!secret) throw OAuthError.invalidClient('secret_mismatch', 'secret does not match a valid secret');
    return { client: found.client, credential: { type: 'client_secret', id: secret.id } };
  }
}

import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { ClientService } from '../clients/client.service.js';
import type { ClientWithSecrets } from '../clients/client.store.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams } from '../shared/form-body.js';
import type { AuthenticatedClient, ClientAuthStrategy, PresentedCredentials } from './client-auth.strategy.js';

type BasicCredentials = Extract<PresentedCredentials, { method: 'client_secret_basic' }>;

/** The base64 content of an `Authorization: Basic` header, or undefined when the header is not Basic. */
export function basicHeaderValue(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  return typeof authorization === 'string' && /^basic /i.test(authorization.trimStart())
    ? authorization.trimStart().slice(6).trim()
    : undefined;
}

/** Reads `client_id:client_secret` from the Basic header, each part form-decoded (RFC 6749 §2.3.1). */
export function readBasicCredentials(basic: string, form: FormParams): BasicCredentials {
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(basic) || colon < 0)
    throw OAuthError.invalidClient('credentials_malformed', 'malformed Basic credentials');
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (!clientId || !secret) throw OAuthError.invalidClient('credentials_malformed', 'malformed Basic credentials');
  const formClientId = form.get('client_id');
  if (formClientId !== undefined && formClientId !== clientId)
    throw OAuthError.invalidRequest('client_id does not match the authenticated client', 'client_id mismatch');
  return { method: 'client_secret_basic', clientId, secret };
}

/** application/x-www-form-urlencoded decoding of a Basic credential part (RFC 6749 §2.3.1). */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** `client_secret_basic`: the secret from the Basic header matches a valid secret of the client (RFC 6749 §2.3.1). */
@Injectable()
export class ClientSecretBasicStrategy implements ClientAuthStrategy<'client_secret_basic'> {
  readonly method = 'client_secret_basic' as const;
  readonly presentedAs = 'client_secret_basic' as const;

  constructor(private readonly clients: ClientService) {}

  async verify(found: ClientWithSecrets, credentials: BasicCredentials): Promise<AuthenticatedClient> {
    const secret = this.clients.matchingSecret(found, credentials.secret);
    if (!secret) throw OAuthError.invalidClient('secret_mismatch', 'secret does not match a valid secret');
    return { client: found.client, credential: { type: 'client_secret', id: secret.id } };
  }
}

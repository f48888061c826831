import { Inject, Injectable } from '@nestjs/common';
import { AuditSink } from '../audit/audit.sink.js';
import type { ClientCeiling } from '../clients/client-ceiling.js';
import type { ClientRecord } from '../clients/client.record.js';
import { ClientNotFoundError, ClientService, type IssuedClientCredentials } from '../clients/client.service.js';
import { OAuthError } from '../errors/oauth-error.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { secretMatchesHash } from '../shared/crypto.js';
import { metadataObject, parseClientMetadata, toClientMetadata } from './client-metadata.dto.js';
import { InitialAccessTokenService, policyCeiling } from './initial-access-token.service.js';
import { CredentialUsageService } from '../usage/credential-usage.service.js';

/** Members a client must not send in an RFC 7592 update (RFC 7592 §2.2). */
const SERVER_OWNED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
];

/** Who may register: the initial access token presented (null in open mode) and the ceiling its policy sets. */
export interface Admission {
  token: string | null;
  /** The token's policy is the ceiling of the client it admits (ADR 0010); it never changes once the token exists. */
  ceiling: Partial<ClientCeiling>;
}

/** A registration response body (RFC 7591 §3.2.1, RFC 7592 §3). */
export type RegistrationResponse = Record<string, unknown>;

/**
 * The rules of dynamic client registration (RFC 7591) and its management protocol (RFC 7592):
 * admission by initial access token, the registration access token of each client, the wire checks
 * of the metadata (once per request) and the response document. The controller maps HTTP onto these
 * calls; the client service owns the metadata rules, the ceiling and the write.
 * @see RFC 7591 §3, RFC 7592 §2
 */
@Injectable()
export class RegistrationService {
  constructor(
    private readonly clients: ClientService,
    private readonly initialTokens: InitialAccessTokenService,
    private readonly audit: AuditSink,
    private readonly usage: CredentialUsageService,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  /**
   * Registration access control, before the body is read: initial access token (default), open, or
   * closed. A wrong token is a 401 before anything else is looked at; it is used up only by a
   * registration that passed validation (`register()`).
   */
  async admit(token: string | undefined): Promise<Admission> {
    const mode = this.settings.registration;
    if (mode === 'open') return { token: null, ceiling: {} };
    if (mode === 'closed') {
      this.audit.record({ type: 'registration.denied', reason: 'registration is closed' });
      throw new OAuthError('invalid_token', 'dynamic registration is closed', 401, 'closed');
    }
    if (!token) {
      this.audit.record({ type: 'registration.denied', reason: 'no initial access token' });
      throw OAuthError.invalidToken('initial access token missing');
    }
    const record = await this.initialTokens.findUsable(token);
    if (record === null) this.denyInitialToken('initial access token unknown, expired or used up');
    return { token, ceiling: policyCeiling(record) };
  }

  /** RFC 7591 §3.1: registers a client admitted by `admit()`, with the body as parsed JSON. */
  async register(admission: Admission, body: unknown): Promise<RegistrationResponse> {
    const dto = await parseClientMetadata(metadataObject(body));
    if (dto.software_statement !== undefined) throw softwareStatementRefused();
    const { token } = admission;
    let consumed = false;
    try {
      const issued = await this.clients.create(toClientMetadata(dto), {
        withRegistrationToken: true,
        via: 'http',
        ceiling: admission.ceiling,
        // Validated and within the policy by now: a rejected request does not use up a one-use token.
        beforeWrite: async () => {
          if (token === null) return;
          if (!(await this.initialTokens.consume(token)))
            this.denyInitialToken('initial access token used up meanwhile');
          consumed = true;
        },
      });
      return this.render(issued.client, issued);
    } catch (e) {
      // Nothing was registered: give the use back, so an outage does not burn a one-use token.
      if (consumed) await this.initialTokens.refund(token!).catch(() => undefined);
      throw e;
    }
  }

  /**
   * The client whose registration access token `token` is (constant-time); else 401 `invalid_token`.
   * The check that counts for a write is the one at the write itself (ADR 0010): this one answers early.
   */
  async authorize(clientId: string, token: string | undefined): Promise<ClientRecord> {
    const client = clientId.length <= 64 ? await this.clients.find(clientId) : null;
    const ok =
      !!token && !!client?.registrationAccessTokenHash && secretMatchesHash(token, client.registrationAccessTokenHash);
    if (!ok || !client) {
      this.audit.record({
        type: 'registration.denied',
        clientId: client ? clientId : undefined,
        reason: token ? 'registration access token does not match' : 'no registration access token',
      });
      throw OAuthError.invalidToken('registration access token missing or wrong');
    }
    return client;
  }

  /**
   * RFC 7592 §2.1: the client's registration, with the extension member `credentials`: each secret
   * and key of the client with when it was created, expires and was last used (never a value), so
   * that a client can see whether anything still uses its previous secret before retiring it. Only
   * here: the answer to a committed write must not hang on a further read (ADR 0024).
   */
  async read(clientId: string, token: string | undefined): Promise<RegistrationResponse> {
    const client = await this.authorize(clientId, token);
    const body = this.render(client, { clientSecretExpiresAt: await this.clients.secretExpiresAt(clientId) });
    return { ...body, credentials: (await this.usage.credentialsOf(clientId)) ?? [] };
  }

  /**
   * RFC 7592 §2.2: replaces the client's metadata, for a caller that `authorize()` let through. The
   * token and a presented `client_secret` are checked again against the row written, in the write.
   */
  async update(clientId: string, token: string, body: unknown): Promise<RegistrationResponse> {
    const raw = metadataObject(body);
    const forbidden = SERVER_OWNED.filter((k) => k in raw);
    if (forbidden.length) throw OAuthError.invalidRequest(`the request must not contain ${forbidden.join(', ')}`);
    const dto = await parseClientMetadata(raw);
    if (dto.client_id !== clientId)
      throw OAuthError.invalidRequest('client_id in the body must match the client being updated');
    if (dto.software_statement !== undefined) throw softwareStatementRefused();
    const issued = await this.clients
      .update(clientId, toClientMetadata(dto), {
        rotateRegistrationToken: true,
        registrationAccessToken: token,
        presentedSecret: dto.client_secret,
      })
      .catch(notFoundAs401);
    return this.render(issued.client, issued);
  }

  /** RFC 7592 §2.3: deletes the client, conditional on the token's digest in the delete itself. */
  async remove(clientId: string, token: string): Promise<void> {
    await this.clients.delete(clientId, { registrationAccessToken: token });
  }

  private denyInitialToken(reason: string): never {
    this.audit.record({ type: 'registration.denied', reason });
    throw OAuthError.invalidToken('initial access token invalid');
  }

  private render(
    client: ClientRecord,
    issued: Partial<IssuedClientCredentials> & { clientSecretExpiresAt: number },
  ): RegistrationResponse {
    return {
      client_id: client.clientId,
      ...(issued.clientSecret ? { client_secret: issued.clientSecret } : {}),
      client_id_issued_at: client.clientIdIssuedAt,
      client_secret_expires_at: issued.clientSecretExpiresAt,
      ...(issued.registrationAccessToken ? { registration_access_token: issued.registrationAccessToken } : {}),
      registration_client_uri: `${this.settings.endpointBase}/register/${encodeURIComponent(client.clientId)}`,
      ...(client.clientName !== null ? { client_name: client.clientName } : {}),
      token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      ...(client.tokenEndpointAuthSigningAlg
        ? { token_endpoint_auth_signing_alg: client.tokenEndpointAuthSigningAlg }
        : {}),
      grant_types: client.grantTypes,
      scope: client.scope,
      ...(client.resources.length ? { resources: client.resources } : {}),
      ...(client.jwks ? { jwks: client.jwks } : {}),
      ...(client.jwksUri ? { jwks_uri: client.jwksUri } : {}),
      ...(client.federatedCredentials.length ? { federated_credentials: client.federatedCredentials } : {}),
      ...(client.contacts.length ? { contacts: client.contacts } : {}),
      ...(client.clientUri ? { client_uri: client.clientUri } : {}),
      ...(client.softwareId ? { software_id: client.softwareId } : {}),
      ...(client.softwareVersion ? { software_version: client.softwareVersion } : {}),
    };
  }
}

function softwareStatementRefused(): OAuthError {
  return new OAuthError('invalid_software_statement', 'software statements are not supported', 400);
}

function notFoundAs401(e: unknown): never {
  if (e instanceof ClientNotFoundError) throw OAuthError.invalidToken('client vanished');
  throw e;
}

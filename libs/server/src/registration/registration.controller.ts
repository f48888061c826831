import {
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { validate, type ValidationError } from 'class-validator';
import type { ServerResponse } from 'node:http';
import { AuditSink } from '../audit/audit.sink.js';
import type { ClientRecord } from '../clients/client.record.js';
import { ClientNotFoundError, ClientService, type IssuedClientCredentials } from '../clients/client.service.js';
import { OAuthError } from '../errors/oauth-error.js';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { secretMatchesHash } from '../shared/crypto.js';
import { readJson, type HttpRequest } from '../shared/form-body.js';
import { validateClientMetadata, type ValidClientMetadata } from '../clients/client-metadata.js';
import {
  assertWithinCeiling,
  ceilingFor,
  membersOutsideCeiling,
  type ClientCeiling,
} from '../clients/client-ceiling.js';
import { ClientMetadataDto, JwksDto, toClientMetadata } from './client-metadata.dto.js';
import { InitialAccessTokenService, policyCeiling } from './initial-access-token.service.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';

/** Members a client must not send in an RFC 7592 update (RFC 7592 §2.2). */
const SERVER_OWNED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
];

/**
 * `POST /register` (RFC 7591) and `GET/PUT/DELETE /register/:client_id` (RFC 7592).
 * @see RFC 7591 §3, RFC 7592 §2
 */
@Controller('register')
@UseFilters(OAuthErrorFilter)
export class RegistrationController {
  constructor(
    private readonly clients: ClientService,
    private readonly initialTokens: InitialAccessTokenService,
    private readonly audit: AuditSink,
    private readonly rateLimit: RateLimitService,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  @Post()
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async register(@Req() req: HttpRequest): Promise<Record<string, unknown>> {
    await this.rateLimit.checkAddress(req, 'register');
    const token = this.admit(req);
    // A wrong token is a 401 before anything else is looked at; it is used up only after validation.
    const admission = token !== null ? await this.initialTokens.findUsable(token) : null;
    if (token !== null && admission === null) this.deny('initial access token unknown, expired or used up');
    const body = await this.readBody(req);
    if (body.software_statement !== undefined)
      throw new OAuthError('invalid_software_statement', 'software statements are not supported', 400);
    const metadata = toClientMetadata(body);
    // Validate before the initial access token is used: a rejected request must not use up a one-use token.
    const valid = await validateClientMetadata(metadata, this.settings);
    // The token's policy is the ceiling of the client it admits (ADR 0010); it never changes once the token exists.
    const ceiling = admission ? policyCeiling(admission) : {};
    this.denyOutsidePolicy(valid, ceiling);
    if (token !== null) await this.consumeInitialToken(token);
    let issued;
    try {
      issued = await this.clients.create(metadata, { withRegistrationToken: true, via: 'http', ceiling });
    } catch (e) {
      // Nothing was registered: give the use back, so an outage does not burn a one-use token.
      if (token !== null) await this.initialTokens.refund(token).catch(() => undefined);
      throw e;
    }
    return this.render(issued.client, issued);
  }

  @Get(':client_id')
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async read(@Req() req: HttpRequest, @Param('client_id') clientId: string): Promise<Record<string, unknown>> {
    const client = await this.authorize(req, clientId);
    return this.render(client, { clientSecretExpiresAt: await this.clients.secretExpiresAt(clientId) });
  }

  @Put(':client_id')
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async update(@Req() req: HttpRequest, @Param('client_id') clientId: string): Promise<Record<string, unknown>> {
    // A quick 401 before the body is read; the authorisation that counts is at the write (ADR 0010).
    await this.authorize(req, clientId);
    const token = bearer(req)!;
    const raw = await this.readRawObject(req);
    const forbidden = SERVER_OWNED.filter((k) => k in raw);
    if (forbidden.length) throw OAuthError.invalidRequest(`the request must not contain ${forbidden.join(', ')}`);
    const body = await this.validateBody(raw);
    if (body.client_id !== clientId)
      throw OAuthError.invalidRequest('client_id in the body must match the client being updated');
    if (body.software_statement !== undefined)
      throw new OAuthError('invalid_software_statement', 'software statements are not supported', 400);
    // The token and a presented client_secret are checked against the row written, in the write.
    const issued = await this.clients
      .update(clientId, toClientMetadata(body), {
        rotateRegistrationToken: true,
        registrationAccessToken: token,
        presentedSecret: body.client_secret,
      })
      .catch(notFoundAs401);
    return this.render(issued.client, issued);
  }

  @Delete(':client_id')
  @HttpCode(204)
  @Header('Cache-Control', 'no-store')
  async remove(
    @Req() req: HttpRequest,
    @Res({ passthrough: true }) _res: ServerResponse,
    @Param('client_id') clientId: string,
  ): Promise<void> {
    await this.authorize(req, clientId);
    // Conditional on the token's digest in the delete itself: a token rotated meanwhile → 401.
    await this.clients.delete(clientId, { registrationAccessToken: bearer(req)! });
  }

  /**
   * Registration access control: initial access token (default), open, or closed. Returns the
   * presented initial access token (null in open mode); it is used up by `consumeInitialToken()`
   * once the request has passed validation.
   */
  private admit(req: HttpRequest): string | null {
    const mode = this.settings.registration;
    if (mode === 'open') return null;
    if (mode === 'closed') {
      this.audit.record({ type: 'registration.denied', reason: 'registration is closed' });
      throw new OAuthError('invalid_token', 'dynamic registration is closed', 401, 'closed');
    }
    const token = bearer(req);
    if (!token) {
      this.audit.record({ type: 'registration.denied', reason: 'no initial access token' });
      throw OAuthError.invalidToken('initial access token missing');
    }
    return token;
  }

  private async consumeInitialToken(token: string): Promise<void> {
    if (!(await this.initialTokens.consume(token))) this.deny('initial access token used up meanwhile');
  }

  /** 400 `invalid_client_metadata` naming what lies outside the initial access token's policy. */
  private denyOutsidePolicy(valid: ValidClientMetadata, policy: Partial<ClientCeiling>): void {
    const ceiling = ceilingFor(valid, policy);
    try {
      assertWithinCeiling(valid, ceiling, "the initial access token's");
    } catch (e) {
      // The audit names the members only: their values come from the request.
      this.audit.record({
        type: 'registration.denied',
        reason: `registration outside the initial access token's policy: ${membersOutsideCeiling(valid, ceiling)}`,
      });
      throw e;
    }
  }

  private deny(reason: string): never {
    this.audit.record({ type: 'registration.denied', reason });
    throw OAuthError.invalidToken('initial access token invalid');
  }

  /** The registration access token must be the one of this very client (constant-time). */
  private async authorize(req: HttpRequest, clientId: string): Promise<ClientRecord> {
    await this.rateLimit.checkAddress(req, 'register');
    const token = bearer(req);
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

  private async readRawObject(req: HttpRequest): Promise<Record<string, unknown>> {
    const raw = await readJson(req, this.settings.limits.jsonBytes, (d) => OAuthError.invalidMetadata(d));
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw OAuthError.invalidMetadata('the request body must be a JSON object');
    // class-transformer recurses without a bound: deep nesting would overflow the stack (a 500).
    if (nestingExceeds(raw, MAX_JSON_DEPTH))
      throw OAuthError.invalidMetadata(`the request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
    return raw as Record<string, unknown>;
  }

  private async readBody(req: HttpRequest): Promise<ClientMetadataDto> {
    return this.validateBody(await this.readRawObject(req));
  }

  private async validateBody(raw: Record<string, unknown>): Promise<ClientMetadataDto> {
    const dto = toDto(raw);
    const errors = await validate(dto, { whitelist: true, forbidUnknownValues: false });
    if (errors.length) throw OAuthError.invalidMetadata(firstMessage(errors));
    return dto;
  }

  private render(
    client: ClientRecord,
    issued: Partial<IssuedClientCredentials> & { clientSecretExpiresAt: number },
  ): Record<string, unknown> {
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

/** The members read into the DTO; everything else is ignored (RFC 7591 §2). */
const DTO_MEMBERS = [
  'client_name',
  'token_endpoint_auth_method',
  'token_endpoint_auth_signing_alg',
  'grant_types',
  'scope',
  'resources',
  'jwks',
  'jwks_uri',
  'federated_credentials',
  'contacts',
  'client_uri',
  'software_id',
  'software_version',
  'client_id',
  'client_secret',
  'software_statement',
] as const;

/**
 * The DTO, built from the known members only. Not class-transformer's plainToInstance: it walks into
 * every nested object and throws on a member named "constructor" (e.g. inside a JWK or an ignored
 * member), which was a 500.
 */
function toDto(raw: Record<string, unknown>): ClientMetadataDto {
  const dto = new ClientMetadataDto() as unknown as Record<string, unknown>;
  for (const key of DTO_MEMBERS) if (Object.hasOwn(raw, key)) dto[key] = raw[key];
  const jwks = dto.jwks;
  if (typeof jwks === 'object' && jwks !== null && !Array.isArray(jwks))
    dto.jwks = Object.assign(new JwksDto(), { keys: (jwks as { keys?: unknown }).keys });
  return dto as unknown as ClientMetadataDto;
}

/** Deepest JSON nesting accepted in a registration body (client metadata needs about 5 levels). */
const MAX_JSON_DEPTH = 16;

/** Whether `value` nests objects/arrays more than `limit` levels deep (recursion bounded by `limit`). */
function nestingExceeds(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  for (const v of Object.values(value)) if (nestingExceeds(v, limit - 1)) return true;
  return false;
}

function bearer(req: HttpRequest): string | undefined {
  const m = /^\s*bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

function firstMessage(errors: ValidationError[]): string {
  for (const e of errors) {
    if (e.constraints) {
      const msg = Object.values(e.constraints)[0];
      return `${e.property}: ${msg.replace(/^[^ ]+ /, '')}`;
    }
    if (e.children?.length) return `${e.property}.${firstMessage(e.children)}`;
  }
  return 'invalid client metadata';
}

function notFoundAs401(e: unknown): never {
  if (e instanceof ClientNotFoundError) throw OAuthError.invalidToken('client vanished');
  throw e;
}

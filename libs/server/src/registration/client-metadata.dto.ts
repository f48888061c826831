import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  validate,
  ValidateNested,
  type ValidationError,
} from 'class-validator';
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../clients/client.record.js';
import type { ClientMetadata } from '../clients/client-metadata.js';
import { OAuthError } from '../errors/oauth-error.js';

export class JwksDto {
  @IsArray() @ArrayMaxSize(100) @IsObject({ each: true }) keys: Record<string, unknown>[];
}

/**
 * RFC 7591 §2 client metadata as sent on the wire (snake_case). Unknown members are dropped
 * (RFC 7591 §2: the server ignores metadata it does not understand); the semantic rules live in
 * `validateClientMetadata()`.
 */
export class ClientMetadataDto {
  @IsOptional() @IsString() @MaxLength(255) client_name?: string;
  @IsOptional()
  @IsIn(TOKEN_ENDPOINT_AUTH_METHODS as TokenEndpointAuthMethod[])
  token_endpoint_auth_method?: TokenEndpointAuthMethod;
  @IsOptional() @IsString() @MaxLength(16) token_endpoint_auth_signing_alg?: string;
  @IsOptional() @IsArray() @ArrayMaxSize(10) @IsString({ each: true }) grant_types?: string[];
  @IsOptional() @IsString() @MaxLength(2048) scope?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  resources?: string[];
  @IsOptional() @IsObject() @ValidateNested() @Type(() => JwksDto) jwks?: JwksDto;
  @IsOptional() @IsString() @MaxLength(2048) jwks_uri?: string;
  /** `federated_jwt`: `[{ issuer, subject }]`, checked by `validateFederatedCredentials()`. */
  @IsOptional() @IsArray() federated_credentials?: unknown[];
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(320, { each: true })
  contacts?: string[];
  @IsOptional() @IsString() @MaxLength(2048) client_uri?: string;
  @IsOptional() @IsString() @MaxLength(255) software_id?: string;
  @IsOptional() @IsString() @MaxLength(255) software_version?: string;
  // RFC 7592 §2.2: present in update requests.
  @IsOptional() @IsString() @MaxLength(64) client_id?: string;
  @IsOptional() @IsString() @MaxLength(256) client_secret?: string;
  // Accepted only to be rejected or ignored with a clear message.
  @IsOptional() software_statement?: unknown;
}

/** Camel-case metadata for the service. */
export function toClientMetadata(dto: ClientMetadataDto): ClientMetadata {
  return {
    clientName: dto.client_name ?? null,
    tokenEndpointAuthMethod: dto.token_endpoint_auth_method,
    tokenEndpointAuthSigningAlg: dto.token_endpoint_auth_signing_alg ?? null,
    grantTypes: dto.grant_types,
    scope: dto.scope ?? null,
    resources: dto.resources,
    jwks: dto.jwks ? ({ keys: dto.jwks.keys } as ClientMetadata['jwks']) : null,
    jwksUri: dto.jwks_uri ?? null,
    federatedCredentials: dto.federated_credentials as ClientMetadata['federatedCredentials'],
    contacts: dto.contacts,
    clientUri: dto.client_uri ?? null,
    softwareId: dto.software_id ?? null,
    softwareVersion: dto.software_version ?? null,
  };
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

/** Deepest JSON nesting accepted in a registration body (client metadata needs about 5 levels). */
const MAX_JSON_DEPTH = 16;

/**
 * A registration or update body as a JSON object nested at most {@link MAX_JSON_DEPTH} levels.
 * @throws OAuthError `invalid_client_metadata` otherwise.
 */
export function metadataObject(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw OAuthError.invalidMetadata('the request body must be a JSON object');
  // class-transformer recurses without a bound: deep nesting would overflow the stack (a 500).
  if (nestingExceeds(raw, MAX_JSON_DEPTH))
    throw OAuthError.invalidMetadata(`the request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  return raw as Record<string, unknown>;
}

/**
 * The wire check of the known members of a body (`metadataObject()`'s result): types and sizes. The
 * semantic rules (defaults, keys, URIs, scopes) are `validateClientMetadata()`'s, run by the client
 * service: together, the one validation of a request.
 * @throws OAuthError `invalid_client_metadata` naming the first problem.
 */
export async function parseClientMetadata(body: Record<string, unknown>): Promise<ClientMetadataDto> {
  const dto = toDto(body);
  const errors = await validate(dto, { whitelist: true, forbidUnknownValues: false });
  if (errors.length) throw OAuthError.invalidMetadata(firstMessage(errors));
  return dto;
}

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

/** Whether `value` nests objects/arrays more than `limit` levels deep (recursion bounded by `limit`). */
function nestingExceeds(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  for (const v of Object.values(value)) if (nestingExceeds(v, limit - 1)) return true;
  return false;
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

import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../clients/client.record.js';
import type { ClientMetadata } from '../clients/client-metadata.js';

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

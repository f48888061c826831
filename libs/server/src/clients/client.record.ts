import type { JSONWebKeySet } from 'jose';

/**
 * @see RFC 7591 §2 `token_endpoint_auth_method` — the methods Clavis supports. `federated_jwt` is
 * Clavis's: a token from an operator-trusted issuer (workload identity federation, docs/adr/0022).
 */
export type TokenEndpointAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'federated_jwt';

export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'federated_jwt',
];

/** Methods whose client holds a server-issued secret. */
export function usesSecret(method: TokenEndpointAuthMethod): boolean {
  return method !== 'private_key_jwt' && method !== 'federated_jwt';
}

/** One platform identity a `federated_jwt` client authenticates as: a token's `iss` and `sub`, exactly. */
export interface FederatedCredential {
  issuer: string;
  subject: string;
}

/** A registered client (camelCase inside; snake_case only in DTOs and bodies). */
export interface ClientRecord {
  clientId: string;
  clientName: string | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Enforced for assertion methods when set. */
  tokenEndpointAuthSigningAlg: string | null;
  grantTypes: string[];
  /** Registered scope, space-separated (may be empty). */
  scope: string;
  /** RFC 8707 resource indicators the client may ask for. */
  resources: string[];
  jwks: JSONWebKeySet | null;
  jwksUri: string | null;
  /** The platform identities of a `federated_jwt` client (1–20); [] for every other method. */
  federatedCredentials: FederatedCredential[];
  contacts: string[];
  clientUri: string | null;
  softwareId: string | null;
  softwareVersion: string | null;
  /**
   * The ceiling set by whoever admitted the client (the operator, or the policy of the initial
   * access token it registered with): the scope it may hold, space-separated. A self-service
   * update may narrow within it, never widen it. null = no ceiling (any scope the server offers).
   */
  maxScope: string | null;
  /** The resource indicators the client may hold (ceiling, as `maxScope`); null = no ceiling. */
  maxResources: string[] | null;
  /** The authentication methods the client may switch to by a self-service update; null = any. */
  allowedMethods: TokenEndpointAuthMethod[] | null;
  /** SHA-256 of the registration access token; null when the client was created without one. */
  registrationAccessTokenHash: string | null;
  /** Seconds since the epoch. */
  clientIdIssuedAt: number;
  updatedAt: number;
  /** Optimistic-concurrency counter; bumped by every save. */
  version: number;
}

/**
 * One of a client's secrets (at most two are valid: the current and, during the overlap window,
 * the previous). Comparison secrets are stored as a hash; `client_secret_jwt` secrets, which the
 * server must read back as HMAC keys, are stored encrypted with the KEK.
 */
export interface ClientSecretRecord {
  id: string;
  clientId: string;
  secretHash: string | null;
  secretEncrypted: string | null;
  /** Seconds since the epoch. */
  createdAt: number;
  /** When the secret expires by policy (`client_secret_expires_at`); null = never. */
  expiresAt: number | null;
  /** When a previous secret stops working (end of the overlap window); null while current. */
  retiresAt: number | null;
  /**
   * The method this secret still serves after its client moved to a method without a secret (the
   * overlap of a migration, docs/adr/0021-migration-between-authentication-methods.md): it
   * authenticates with that method only, until `retiresAt`. null: the client's own method.
   */
  method: TokenEndpointAuthMethod | null;
}

/** Whether a secret is usable at `now` (seconds). */
export function secretIsValid(secret: ClientSecretRecord, now: number): boolean {
  return (secret.expiresAt === null || secret.expiresAt > now) && (secret.retiresAt === null || secret.retiresAt > now);
}

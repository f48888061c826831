/**
 * The kinds of credential whose use is tracked, one name each: a client secret (`id`: the secret
 * record's id, which is not secret), a key of a `private_key_jwt` client (`kid`: the JWK's `kid`, or
 * its RFC 7638 thumbprint when it has none), a federated credential of a `federated_jwt` client (`id`:
 * the digest of its issuer and subject, which the view also shows). A new kind of credential (e.g. a federated identity)
 * adds its name here and a {@link CredentialSource} for its views.
 */
export type CredentialType = 'client_secret' | 'jwk' | 'federated';

/** Which credential authenticated a request: never a secret value. */
export interface CredentialRef {
  type: CredentialType;
  id: string;
}

/** One credential of a client as operators and the client see it (snake_case: it is a wire shape). */
export interface CredentialView {
  type: CredentialType;
  /** Set for secrets (and any credential named by an id). */
  id?: string;
  /** Set for keys. */
  kid?: string;
  /** Set for federated credentials: the platform identity (issuer and subject) it accepts. */
  issuer?: string;
  subject?: string;
  /** `previous`: a secret in its rotation overlap (still valid until `expires_at`). */
  status: 'current' | 'previous';
  /** Seconds since the epoch; null when unknown (a key Clavis never saw registered, e.g. from a `jwks_uri`). */
  created_at: number | null;
  /** When it stops working (expiry, or the end of a rotation overlap); null = never. */
  expires_at: number | null;
  /** Last successful authentication with it (seconds, to the flush of the instance that saw it); null = never. */
  last_used_at: number | null;
  /** Successful authentications with it, approximate (what every instance has flushed, plus this one's pending). */
  use_count: number;
  /** The address of its last use, as the server saw it (`req.ip`). */
  last_address: string | null;
}

/** Stored usage of one credential, summed over every instance. */
export interface CredentialUsageRecord {
  clientId: string;
  type: CredentialType;
  credentialId: string;
  /** Seconds since the epoch. */
  firstUsedAt: number;
  lastUsedAt: number;
  useCount: number;
  lastAddress: string | null;
}

import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { JWK } from 'jose';
import type { ClientWithSecrets } from '../clients/client.store.js';
import type { CredentialType } from './credential-usage.js';
import { federatedCredentialKey } from '../clients/federated-credentials.js';

/** A credential as its kind lists it, before usage is joined to it. */
export interface ListedCredential {
  id: string;
  status: 'current' | 'previous';
  createdAt: number | null;
  expiresAt: number | null;
  /** Further members of the view that name the credential (a federated credential's issuer and subject). */
  names?: { issuer: string; subject: string };
}

/**
 * The extension point of per-credential views, one source per {@link CredentialType}: lists a
 * client's credentials of that type. `seen` are the ids of that type with recorded usage, for a
 * source that cannot list them all itself (the keys behind a `jwks_uri`). A new kind of credential
 * is one more class here, in `CREDENTIAL_SOURCES`.
 */
export interface CredentialSource {
  readonly type: CredentialType;
  /** The view's member that names the credential. */
  readonly idMember: 'id' | 'kid';
  list(found: ClientWithSecrets, seen: readonly string[]): ListedCredential[];
}

/** The injection token of the source list. */
export const CREDENTIAL_SOURCES = Symbol('CREDENTIAL_SOURCES');

/** Client secrets: the current one and, during a rotation overlap, the previous one (never a value). */
@Injectable()
export class ClientSecretCredentials implements CredentialSource {
  readonly type = 'client_secret' as const;
  readonly idMember = 'id' as const;

  list(found: ClientWithSecrets): ListedCredential[] {
    return [...found.secrets]
      .sort((a, b) =>
        (a.retiresAt === null) !== (b.retiresAt === null) ? (a.retiresAt === null ? -1 : 1) : b.createdAt - a.createdAt,
      )
      .map((s) => ({
        id: s.id,
        status: s.retiresAt === null ? ('current' as const) : ('previous' as const),
        createdAt: s.createdAt,
        expiresAt:
          s.retiresAt === null ? s.expiresAt : s.expiresAt === null ? s.retiresAt : Math.min(s.expiresAt, s.retiresAt),
      }));
  }
}

/** The keys of a `private_key_jwt` client: its registered `jwks`, or the keys of its `jwks_uri` that were used. */
@Injectable()
export class ClientKeyCredentials implements CredentialSource {
  readonly type = 'jwk' as const;
  readonly idMember = 'kid' as const;

  list(found: ClientWithSecrets, seen: readonly string[]): ListedCredential[] {
    const client = found.client;
    if (client.tokenEndpointAuthMethod !== 'private_key_jwt') return [];
    const ids = client.jwks ? client.jwks.keys.map((k) => jwkCredentialId(k)) : [...seen];
    return [...new Set(ids)].map((id) => ({ id, status: 'current' as const, createdAt: null, expiresAt: null }));
  }
}

/** The platform identities of a `federated_jwt` client (issuer and subject; nothing secret). */
@Injectable()
export class FederatedCredentials implements CredentialSource {
  readonly type = 'federated' as const;
  readonly idMember = 'id' as const;

  list(found: ClientWithSecrets): ListedCredential[] {
    return found.client.federatedCredentials.map((c) => ({
      id: federatedCredentialKey(c),
      status: 'current' as const,
      createdAt: null,
      expiresAt: null,
      names: { issuer: c.issuer, subject: c.subject },
    }));
  }
}

const THUMBPRINT_MEMBERS: Record<string, string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
  oct: ['k', 'kty'],
};

/** How a key is named in usage: its `kid`, else its RFC 7638 JWK thumbprint (SHA-256, base64url). */
export function jwkCredentialId(jwk: JWK): string {
  if (typeof jwk.kid === 'string' && jwk.kid !== '') return jwk.kid;
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''] ?? Object.keys(jwk).sort();
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, (jwk as Record<string, unknown>)[m]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

import { createHash } from 'node:crypto';
import { OAuthError } from '../errors/oauth-error.js';
import type { ServerSettings } from '../options/server-settings.js';
import type { FederatedCredential, TokenEndpointAuthMethod } from './client.record.js';

export const MAX_FEDERATED_CREDENTIALS = 20;
const MAX_LENGTH = 2_048;
/** Whitespace, controls and format characters: never part of an `iss` or `sub` Clavis accepts to register. */
const FORBIDDEN = /[\s\p{Cc}\p{Cf}]/u;

/**
 * The `federated_credentials` metadata member (docs/adr/0022): required (1–20 entries) for
 * `federated_jwt` and refused for every other method. Each entry is `{ issuer, subject }`, both
 * non-empty strings without whitespace or control characters, the issuer one the operator trusts
 * (`federation.issuers`), no entry twice. Uniqueness across clients is the store's (a unique index).
 * @throws OAuthError `invalid_client_metadata` naming the first problem.
 */
export function validateFederatedCredentials(
  raw: unknown,
  method: TokenEndpointAuthMethod,
  settings: Pick<ServerSettings, 'federation'>,
): FederatedCredential[] {
  const bad = (description: string) => OAuthError.invalidMetadata(description);
  if (method !== 'federated_jwt') {
    if (raw !== undefined && raw !== null) throw bad('federated_credentials apply only to federated_jwt');
    return [];
  }
  if (settings.federation.issuers.length === 0)
    throw bad('federated_jwt is not available: this server trusts no federated issuer');
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_FEDERATED_CREDENTIALS)
    throw bad(
      `federated_jwt requires federated_credentials: a list of 1 to ${MAX_FEDERATED_CREDENTIALS} { issuer, subject } entries`,
    );
  const trusted = new Set(settings.federation.issuers.map((i) => i.issuer));
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    const name = `federated_credentials[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw bad(`${name} must be an object with issuer and subject`);
    const { issuer, subject, ...rest } = entry as Record<string, unknown>;
    if (Object.keys(rest).length) throw bad(`${name} has members other than issuer and subject`);
    for (const [member, value] of [
      ['issuer', issuer],
      ['subject', subject],
    ] as const)
      if (typeof value !== 'string' || value === '' || value.length > MAX_LENGTH || FORBIDDEN.test(value))
        throw bad(
          `${name}.${member} must be a non-empty string of at most ${MAX_LENGTH} characters without whitespace or control characters`,
        );
    if (!trusted.has(issuer as string)) throw bad(`${name}.issuer is not an issuer this server trusts`);
    const key = federatedCredentialKey({ issuer: issuer as string, subject: subject as string });
    if (seen.has(key)) throw bad(`${name} is listed twice`);
    seen.add(key);
    return { issuer: issuer as string, subject: subject as string };
  });
}

/** The unique key of an identity across clients: SHA-256 (hex) of issuer, a newline, subject. */
export function federatedCredentialKey(c: FederatedCredential): string {
  return createHash('sha256').update(`${c.issuer}\n${c.subject}`).digest('hex');
}

/** Raised by a `ClientStore` write when another client already holds one of the federated credentials. */
export class FederatedCredentialTakenError extends Error {
  constructor() {
    super('another client already holds one of these federated credentials');
    this.name = 'FederatedCredentialTakenError';
  }
}

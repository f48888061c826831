import type { ClientRecord, TokenEndpointAuthMethod } from '../clients/client.record.js';
import type { ClientWithSecrets } from '../clients/client.store.js';
import type { CredentialRef } from '../usage/credential-usage.js';

/**
 * How a request presents its client credentials (RFC 6749 §2.3, RFC 7523 §2.2): the Basic header,
 * a form secret, or a client assertion. Both JWT methods present a `client_assertion`; which of
 * them applies is decided by the client's registered method, once the client is found.
 */
export type PresentedCredentials =
  | { method: 'client_secret_basic'; clientId: string; secret: string }
  | { method: 'client_secret_post'; clientId: string; secret: string }
  | { method: 'jwt'; clientId: string; assertion: string }
  /**
   * A platform token (workload identity federation, docs/adr/0022): a jwt-bearer assertion whose
   * subject is not the form's `client_id`, or a `jwt-spiffe` JWT-SVID, whose `client_id` is optional
   * (the client is then found by the token's issuer and SPIFFE ID).
   */
  | { method: 'federated_jwt'; clientId?: string; assertion: string; assertionType: 'jwt-bearer' | 'jwt-spiffe' };

export type PresentedAs = PresentedCredentials['method'];

/**
 * One client-authentication method: verifies the credential it reads from the request (its file
 * holds the reader too) against the client the authenticator found. A new method (e.g. the federated
 * JWT) is one more class of this shape in the `CLIENT_AUTH_STRATEGIES` list.
 * Every failure is an `OAuthError.invalidClient` with a stable {@link ClientAuthFailure} reason.
 */
export interface ClientAuthStrategy<P extends PresentedAs = PresentedAs> {
  /** The registered `token_endpoint_auth_method` this strategy authenticates. */
  readonly method: TokenEndpointAuthMethod;
  /** The form in which the request presents this method's credential. */
  readonly presentedAs: P;
  verify(
    found: ClientWithSecrets,
    credentials: Extract<PresentedCredentials, { method: P }>,
  ): Promise<AuthenticatedClient>;
  /** The client a credential names by itself, when the request carries no `client_id` (jwt-spiffe). */
  identify?(credentials: Extract<PresentedCredentials, { method: P }>): Promise<string | undefined>;
}

/** A client whose credential verified, and which of its credentials that was (never a secret value). */
export interface AuthenticatedClient {
  client: ClientRecord;
  /** Counted by the usage recorder (docs/adr/0024-credential-usage-and-expiry-notices.md). */
  credential: CredentialRef;
}

/** The injection token of the strategy list the authenticator dispatches to. */
export const CLIENT_AUTH_STRATEGIES = Symbol('CLIENT_AUTH_STRATEGIES');

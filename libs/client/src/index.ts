/**
 * `@clavis/client`: a Nest-free OAuth 2.0 client SDK for machine-to-machine clients: token-endpoint
 * client authentication, a caching token client, and self-service registration.
 * @packageDocumentation
 */

/** Token-endpoint client authentication strategy types. @see RFC 6749 §2.3, RFC 7591 §2 */
export type { ClientAuth, ClientAuthContext, ClientAuthParams, TokenEndpointAuthMethod } from './auth/client-auth.js';
/** Options of the assertion strategies (`lifetime` ≤ 60 s, `audience` override). @see RFC 7523 §3 */
export type { AssertionOptions } from './auth/assertion.js';
/** `client_secret_basic`: HTTP Basic with form-urlencoded id and secret. @see RFC 6749 §2.3.1 */
export { clientSecretBasic } from './auth/client-secret-basic.js';
/** `client_secret_post`: the secret as form parameters. @see RFC 6749 §2.3.1 */
export { clientSecretPost } from './auth/client-secret-post.js';
/** `client_secret_jwt`: an HMAC-signed assertion per request. @see RFC 7523 §2.2 */
export { clientSecretJwt, type ClientSecretJwtOptions, type HmacAlgorithm } from './auth/client-secret-jwt.js';
/** `private_key_jwt`: an assertion signed with the client's private key per request. @see RFC 7523 §2.2 */
export { privateKeyJwt, type PrivateKey, type PrivateKeyJwtOptions } from './auth/private-key-jwt.js';
/**
 * `federated_jwt`: the client's platform token (Kubernetes, GitHub Actions, SPIFFE JWT-SVID), read
 * afresh per request from a file or a function. @see RFC 7523 §2.2, draft-ietf-oauth-spiffe-client-auth
 */
export { federatedJwt, JWT_SPIFFE_ASSERTION_TYPE, type FederatedJwtOptions } from './auth/federated-jwt.js';
/** Caching client-credentials token client with a bearer `fetch` helper. @see RFC 6749 §4.4, RFC 6750 §2.1 */
export { TokenClient, type TokenClientOptions, type TokenEndpointResponse } from './token-client.js';
/** Dynamic registration and self-management client. @see RFC 7591 §3, RFC 7592 §2 */
export {
  RegistrationClient,
  type ClientMetadata,
  type ClientRegistration,
  type FederatedCredential,
  type MigrateToFederatedOptions,
  type MigrateToPrivateKeyJwtOptions,
  type NewSigningKey,
  type RegistrationClientOptions,
  type RollKeysOptions,
} from './registration-client.js';
/** Authorization server metadata discovery. @see RFC 8414 §3 */
export { discoverAuthorizationServer, type AuthorizationServerMetadata, type DiscoveryOptions } from './discovery.js';
/** The SDK's single error type and its `code` union. @see RFC 6749 §5.2, RFC 7591 §3.2.2 */
export { ClavisClientError, type ClavisClientErrorCode } from './errors.js';
/** Time source (milliseconds since the epoch) and the wall clock. @see RFC 7519 §4.1.4 */
export { systemClock, type Clock } from './clock.js';
/** The `fetch` signature the SDK calls. @see RFC 6749 §3.2 */
export type { FetchLike } from './http.js';
/** `client_assertion_type` of JWT client assertions. @see RFC 7523 §2.2 */
export { JWT_BEARER_ASSERTION_TYPE } from './auth/assertion.js';

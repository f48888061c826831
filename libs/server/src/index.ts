/**
 * @clavis/server — an OAuth 2.0 authorization server for machine-to-machine clients, embedded
 * in a NestJS application. This entry point is what a host needs: the module and its options,
 * the services an operator drives, audit, persistence, the HTTP helpers, the CLI runner and the
 * in-process guard. Settings internals, storage ports, private keys and encrypted records are not
 * part of it (tests reach them through `@clavis/server/testing` or relative imports).
 */
export { ClavisServerModule } from './clavis-server.module.js';
export type {
  ClavisServerOptions,
  ConsoleOptions,
  RegistrationMode,
  SigningAlgorithm,
} from './options/clavis-server.options.js';
export type { FederatedIssuerOption, FederatedReplayPolicy } from './options/federation-options.js';
export { DEFAULT_SERVER_OPTIONS, ClavisConfigurationError } from './options/resolve-server-options.js';
/** Client registry. */
export {
  ClientService,
  ClientNotFoundError,
  type IssuedClientCredentials,
  type UpdateClientOptions,
} from './clients/client.service.js';
export type { ClientRecord, TokenEndpointAuthMethod } from './clients/client.record.js';
/** The methods Clavis supports (e.g. to check a host's `allowedAuthMethods` setting). */
export { TOKEN_ENDPOINT_AUTH_METHODS } from './clients/client.record.js';
export type { ClientMetadata } from './clients/client-metadata.js';
export type { ClientCeiling } from './clients/client-ceiling.js';
export type { CreateClientOptions } from './clients/client.service.js';
/** Registration. */
export { InitialAccessTokenService } from './registration/initial-access-token.service.js';
export type { CreateInitialAccessTokenOptions } from './registration/initial-access-token.service.js';
export type { InitialAccessTokenPolicy, InitialAccessTokenRecord } from './registration/initial-access-token.store.js';
/** Keys and tokens. */
export { SigningKeyService } from './keys/signing-key.service.js';
/** Key-encryption key: parsing and key ids; rotation (status, re-encryption). */
export { KeyEncryption, KeyEncryptionKeyMismatchError } from './shared/crypto.js';
export {
  KeyEncryptionService,
  type KeyEncryptionStatus,
  type ReEncryptionResult,
} from './key-encryption/key-encryption.service.js';
export { HousekeepingService } from './housekeeping.service.js';
/** Per-credential usage (last use, count, address) of a client's secrets and keys. */
export { CredentialUsageService } from './usage/credential-usage.service.js';
export type { CredentialView, CredentialType } from './usage/credential-usage.js';
/** Errors and audit. */
export {
  OAuthError,
  RegistrationError,
  StorageUnavailableError,
  type OAuthErrorCode,
  type RegistrationErrorCode,
} from './errors/oauth-error.js';
export { CLIENT_AUTH_FAILURES, type ClientAuthFailure } from './errors/client-auth-failure.js';
export { AuditSink, LoggerAuditSink } from './audit/audit.sink.js';
export type { AuditEvent, AuditEventType } from './audit/audit-event.js';
export { Clock, FixedClock } from './shared/clock.js';
/** Operations: health (the terminus indicator is in @clavis/server/health), metrics options, the OpenAPI description. */
export { ClavisHealth, type ClavisHealthReport, type ComponentHealth } from './observability/clavis-health.js';
export type { ClavisMetricsOptions, PrometheusRegistry } from './observability/clavis-metrics.js';
export { clavisOpenApiDocument, type ClavisOpenApiOptions } from './openapi/clavis-openapi.js';
/** Storage: the `storage` option of forRoot (TypeORM by default; in memory from @clavis/server/testing). */
export type { ClavisStorage } from './persistence/storage.js';
export { typeOrmStorage } from './persistence/typeorm/typeorm-storage.js';
/** Persistence: add these to the host's DataSource. */
export { CLAVIS_ENTITIES, CLAVIS_MIGRATIONS } from './persistence/typeorm/index.js';
export {
  SqliteWalCheckpointer,
  type SqliteWalCheckpointerOptions,
} from './persistence/typeorm/sqlite-wal-checkpointer.js';
/** HTTP: optional adapter settings for the host's main.ts. */
export { clavisFastifyOptions, configureClavisHttp } from './http/clavis-http.js';
export {
  DEFAULT_REQUEST_TIMEOUT,
  type ClavisHttpOptions,
  type ClavisFastifyOptions,
} from './http/clavis-http.options.js';
export { parseTrustProxy, TrustProxyError, type TrustProxySetting } from './http/trust-proxy.js';
/** Operator console: the hash for its `passwordHash` option. */
export { hashConsolePassword } from './console/console-password.js';
/** Operator CLI around the host's module. */
export { runClavisCli, type ClavisCliModule } from './cli/clavis-cli.js';
/** The resource guard (@clavis/resource) in the same process as the server. */
export {
  ClavisInProcessResourceModule,
  type ClavisInProcessResourceOptions,
  type ClavisInProcessResourceAsyncOptions,
} from './embedding/in-process-resource.module.js';

/**
 * @clavis/server — an OAuth 2.0 authorization server for machine-to-machine clients, embedded
 * in a NestJS application.
 */
export { ClavisServerModule } from './clavis-server.module.js';
export { MODULE_OPTIONS_TOKEN as CLAVIS_SERVER_OPTIONS } from './clavis-server.module-definition.js';
export type { ClavisServerOptions, RegistrationMode, SigningAlgorithm } from './options/clavis-server.options.js';
export { DEFAULT_SERVER_OPTIONS, resolveServerOptions, ClavisConfigurationError } from './options/resolve-server-options.js';
export { SERVER_SETTINGS, type ServerSettings } from './options/server-settings.js';
/** Client registry. */
export { ClientService, ClientNotFoundError, type IssuedClientCredentials, type UpdateClientOptions } from './clients/client.service.js';
export type { ClientRecord, ClientSecretRecord, TokenEndpointAuthMethod } from './clients/client.record.js';
export type { ClientMetadata } from './clients/client-metadata.js';
export { ClientStore } from './clients/client.store.js';
export type { ClientCeiling } from './clients/client-ceiling.js';
export type { CreateClientOptions } from './clients/client.service.js';
/** Registration. */
export { InitialAccessTokenService } from './registration/initial-access-token.service.js';
export type { CreateInitialAccessTokenOptions } from './registration/initial-access-token.service.js';
export type { InitialAccessTokenPolicy, InitialAccessTokenRecord } from './registration/initial-access-token.store.js';
/** Keys and tokens. */
export { SigningKeyService, type ActiveSigningKey } from './keys/signing-key.service.js';
export type { SigningKeyRecord } from './keys/signing-key.store.js';
/** Key-encryption key: one provider built from the settings; rotation (status, re-encryption). */
export { KeyEncryption, KeyEncryptionKeyMismatchError, keyEncryptionKeyId } from './shared/crypto.js';
export { KeyEncryptionService, type KeyEncryptionStatus, type ReEncryptionResult } from './key-encryption/key-encryption.service.js';
export { AccessTokenInspector } from './token/access-token.inspector.js';
export { DenyList } from './token/deny-list.js';
export { ReplayStore } from './client-auth/replay.store.js';
export { HousekeepingService } from './housekeeping.service.js';
/** Errors and audit. */
export { OAuthError, RegistrationError, StorageUnavailableError, type OAuthErrorCode, type RegistrationErrorCode } from './errors/oauth-error.js';
export { CLIENT_AUTH_FAILURES, type ClientAuthFailure } from './errors/client-auth-failure.js';
export { AuditSink, LoggerAuditSink } from './audit/audit.sink.js';
export type { AuditEvent, AuditEventType } from './audit/audit-event.js';
export { Clock, SystemClock, FixedClock } from './shared/clock.js';
/** Persistence: add these to the host's DataSource. */
export { CLAVIS_ENTITIES, CLAVIS_MIGRATIONS } from './persistence/typeorm/index.js';
export { SqliteWalCheckpointer, type SqliteWalCheckpointerOptions } from './persistence/typeorm/sqlite-wal-checkpointer.js';

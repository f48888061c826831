import { describe, expect, it } from 'vitest';
import * as server from './index.js';

/** The package's entry point is what a host needs, and no more (docs/adr/0018). */
describe('@clavis/server public surface', () => {
  it('offers the module, the operator services, the HTTP helpers, the CLI runner and the in-process guard', () => {
    for (const name of [
      'ClavisServerModule',
      'ClavisConfigurationError',
      'DEFAULT_SERVER_OPTIONS',
      'ClientService',
      'ClientNotFoundError',
      'InitialAccessTokenService',
      'SigningKeyService',
      'HousekeepingService',
      'CredentialUsageService',
      'OAuthError',
      'RegistrationError',
      'StorageUnavailableError',
      'AuditSink',
      'LoggerAuditSink',
      'Clock',
      'FixedClock',
      'CLAVIS_ENTITIES',
      'CLAVIS_MIGRATIONS',
      'SqliteWalCheckpointer',
      'clavisFastifyOptions',
      'configureClavisHttp',
      'DEFAULT_REQUEST_TIMEOUT',
      'runClavisCli',
      'hashConsolePassword',
      'ClavisInProcessResourceModule',
    ])
      expect(server, name).toHaveProperty(name);
  });
  it('keeps settings internals, storage ports and unused classes out', () => {
    for (const name of [
      'SERVER_SETTINGS',
      'resolveServerOptions',
      'CLAVIS_SERVER_OPTIONS',
      'ClientStore',
      'ReplayStore',
      'DenyList',
      'AccessTokenInspector',
      'SystemClock',
      'SigningKeyStore',
      'OwnBodyGate',
      'keyEncryptionKeyId',
      'limitConnectionsPerAddress',
      'trustProxyFunction',
      'CredentialUsageStore',
      'CredentialUsageRecorder',
      'ConsoleRoutes',
      'ConsoleSessions',
      'RecentAuditEvents',
    ])
      expect(server, name).not.toHaveProperty(name);
  });
});

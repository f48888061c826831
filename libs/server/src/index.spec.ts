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
      'ClavisHealth',
      'clavisOpenApiDocument',
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

describe('@clavis/server/health', () => {
  it('offers the terminus indicator, and the main entry point does not load terminus or prom-client', async () => {
    const health = await import('./health/index.js');
    expect(health).toHaveProperty('ClavisHealthIndicator');
    const { readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = new URL('.', import.meta.url).pathname;
    const files = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    // Optional peers: terminus only under health/, prom-client only by dynamic import (when metrics are on).
    for (const f of files('.').filter((f) => !f.startsWith('health/') && !f.endsWith('.spec.ts'))) {
      const text = readFileSync(join(root, f), 'utf8');
      expect(text, f).not.toMatch(/from '@nestjs\/terminus'/);
      expect(text, f).not.toMatch(/from 'prom-client'/);
    }
  });
});

import { Module, type MiddlewareConsumer, type NestModule, type Type } from '@nestjs/common';
import { AuditSink, EscapingAuditSink, LoggerAuditSink } from './audit/audit.sink.js';
import { CLIENT_AUTH_PROVIDERS } from './client-auth/client-auth.providers.js';
import { ClientAuthenticator } from './client-auth/client.authenticator.js';
import { ClientJwksFetcher } from './client-auth/client-jwks.fetcher.js';
import { ClientKeySource } from './client-auth/client-key.source.js';
import { ClientService } from './clients/client.service.js';
import {
  CLAVIS_ROUTE_PREFIX,
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN,
} from './clavis-server.module-definition.js';
import { OAuthErrorFilter } from './errors/oauth-error.filter.js';
import { createJwsBackend } from './jws/create-jws-backend.js';
import { JwsBackend } from './jws/jws-backend.js';
import { HousekeepingService } from './housekeeping.service.js';
import { JwksController } from './keys/jwks.controller.js';
import { SigningKeyService } from './keys/signing-key.service.js';
import { MetadataController } from './metadata/metadata.controller.js';
import type { ClavisServerOptions } from './options/clavis-server.options.js';
import { resolveServerOptions } from './options/resolve-server-options.js';
import { SERVER_SETTINGS, type ServerSettings } from './options/server-settings.js';
import { Clock, SystemClock } from './shared/clock.js';
import { AccessTokenIssuer } from './token/access-token.issuer.js';
import { ClientCredentialsGrant } from './token/client-credentials.grant.js';
import { DenyList } from './token/deny-list.js';
import { TokenController } from './token/token.controller.js';
import { IntrospectionController } from './token/introspection.controller.js';
import { RevocationController } from './token/revocation.controller.js';
import { AccessTokenInspector } from './token/access-token.inspector.js';
import { LocalRevocations } from './token/local-revocations.js';
import { RateLimitService } from './rate-limit/rate-limit.service.js';
import { RegistrationController } from './registration/registration.controller.js';
import { RegistrationService } from './registration/registration.service.js';
import { InitialAccessTokenService } from './registration/initial-access-token.service.js';
import { KeyEncryption } from './shared/crypto.js';
import { KeyEncryptionService } from './key-encryption/key-encryption.service.js';
import { markOwnBodyRoutes, OwnBodyGate } from './http/own-body.gate.js';
import { FirstRunService } from './embedding/first-run.service.js';
import { WellKnownMetadataRoute } from './metadata/well-known.route.js';
import { ConsoleRoutes } from './console/console.routes.js';
import { ConsoleSessions } from './console/console-sessions.js';
import { RecentAuditEvents, TeeAuditSink } from './console/recent-audit-events.js';
import { CredentialUsageService } from './usage/credential-usage.service.js';
import { USAGE_PROVIDERS } from './usage/usage.providers.js';
import { ExpiryNoticeService } from './expiry/expiry-notice.service.js';
import { ClavisMetrics, NoClavisMetrics, type ClavisEndpoint } from './observability/clavis-metrics.js';
import { ClavisStats } from './observability/clavis-stats.js';
import { ClavisHealth } from './observability/clavis-health.js';
import { createPrometheusMetrics } from './observability/prometheus-metrics.js';
import { MeteringAuditSink } from './observability/metering-audit.sink.js';
import { EndpointTiming, endpointTimingMiddleware, markMeasuredRoutes } from './observability/endpoint-timing.js';

/** The `endpoint` label of each controller's requests. */
const MEASURED: [Type<unknown>, ClavisEndpoint][] = [
  [MetadataController, 'metadata'],
  [JwksController, 'jwks'],
  [TokenController, 'token'],
  [IntrospectionController, 'introspect'],
  [RevocationController, 'revoke'],
  [RegistrationController, 'register'],
];

/**
 * The Clavis authorization server, embedded in the host application. Its state goes to the `storage`
 * given to `forRoot` (a static option, beside `routePrefix`): by default `typeOrmStorage()`, whose
 * entities join the host's TypeORM DataSource (add `CLAVIS_ENTITIES` and `CLAVIS_MIGRATIONS` to it)
 * and which opens no connection of its own (except Redis, when `redisUrl` is set).
 * @example
 * ClavisServerModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ issuer: config.getOrThrow('ISSUER'), keyEncryptionKey: config.getOrThrow('CLAVIS_KEK') }),
 * })
 */
@Module({
  controllers: [
    MetadataController,
    JwksController,
    TokenController,
    IntrospectionController,
    RevocationController,
    RegistrationController,
  ],
  providers: [
    {
      provide: SERVER_SETTINGS,
      inject: [MODULE_OPTIONS_TOKEN, CLAVIS_ROUTE_PREFIX],
      useFactory: (options: ClavisServerOptions, routePrefix: string) =>
        resolveServerOptions({ ...options, routePrefix }),
    },
    { provide: Clock, inject: [SERVER_SETTINGS], useFactory: (s: ServerSettings) => s.clock ?? new SystemClock() },
    RecentAuditEvents,
    ClavisStats,
    {
      provide: ClavisMetrics,
      inject: [SERVER_SETTINGS, ClavisStats],
      useFactory: (s: ServerSettings, stats: ClavisStats) =>
        s.metrics ? createPrometheusMetrics(s.metrics, () => stats.sizes()) : new NoClavisMetrics(),
    },
    {
      provide: AuditSink,
      inject: [SERVER_SETTINGS, RecentAuditEvents, ClavisMetrics],
      useFactory: (s: ServerSettings, recent: RecentAuditEvents, metrics: ClavisMetrics) => {
        let sink: AuditSink = s.auditSink ? new EscapingAuditSink(s.auditSink) : new LoggerAuditSink();
        // With the console on, its per-client ring of recent events gets them too (escaped like the host's).
        if (s.console) sink = new TeeAuditSink([sink, new EscapingAuditSink(recent)]);
        return metrics.enabled ? new MeteringAuditSink(sink, metrics) : sink;
      },
    },
    ConsoleSessions,
    ConsoleRoutes,
    ClavisHealth,
    EndpointTiming,
    RateLimitService,
    OAuthErrorFilter,
    ClientService,
    ClientJwksFetcher,
    ClientKeySource,
    {
      provide: JwsBackend,
      inject: [SERVER_SETTINGS],
      useFactory: (s: ServerSettings) => createJwsBackend(s.cryptoMode),
    },
    ...CLIENT_AUTH_PROVIDERS,
    ...USAGE_PROVIDERS,
    ExpiryNoticeService,
    ClientAuthenticator,
    SigningKeyService,
    AccessTokenIssuer,
    AccessTokenInspector,
    LocalRevocations,
    ClientCredentialsGrant,
    InitialAccessTokenService,
    RegistrationService,
    HousekeepingService,
    {
      provide: KeyEncryption,
      inject: [SERVER_SETTINGS],
      useFactory: (s: ServerSettings) => s.keyEncryption,
    },
    KeyEncryptionService,
    OwnBodyGate,
    FirstRunService,
    WellKnownMetadataRoute,
  ],
  exports: [
    SERVER_SETTINGS,
    Clock,
    ClientService,
    SigningKeyService,
    InitialAccessTokenService,
    AccessTokenInspector,
    LocalRevocations,
    DenyList,
    HousekeepingService,
    KeyEncryption,
    KeyEncryptionService,
    CredentialUsageService,
    ClavisHealth,
  ],
})
export class ClavisServerModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    private readonly metrics: ClavisMetrics,
    private readonly timing: EndpointTiming,
  ) {
    super();
  }

  /** With metrics on and an adapter other than Fastify, each endpoint's requests are timed by a middleware. */
  configure(consumer: MiddlewareConsumer): void {
    if (!this.timing.needsMiddleware) return;
    for (const [controller, endpoint] of MEASURED)
      consumer.apply(endpointTimingMiddleware(this.metrics, endpoint)).forRoutes(controller);
  }
}

// Clavis reads its request bodies itself, whatever body parsing the host has (docs/adr/0018).
markOwnBodyRoutes(Reflect.getMetadata('controllers', ClavisServerModule) as []);
// With metrics on, Fastify finds each endpoint's label in its route config.
markMeasuredRoutes(MEASURED);

import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditSink, EscapingAuditSink, LoggerAuditSink } from './audit/audit.sink.js';
import { CLIENT_AUTH_PROVIDERS } from './client-auth/client-auth.providers.js';
import { ClientAuthenticator } from './client-auth/client.authenticator.js';
import { ClientJwksFetcher } from './client-auth/client-jwks.fetcher.js';
import { ClientKeySource } from './client-auth/client-key.source.js';
import { ReplayStore } from './client-auth/replay.store.js';
import { ClientService } from './clients/client.service.js';
import { ClientStore } from './clients/client.store.js';
import { CLAVIS_ROUTE_PREFIX, ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } from './clavis-server.module-definition.js';
import { OAuthErrorFilter } from './errors/oauth-error.filter.js';
import { createJwsBackend } from './jws/create-jws-backend.js';
import { JwsBackend } from './jws/jws-backend.js';
import { HousekeepingService } from './housekeeping.service.js';
import { JwksController } from './keys/jwks.controller.js';
import { SigningKeyService } from './keys/signing-key.service.js';
import { SigningKeyStore } from './keys/signing-key.store.js';
import { MetadataController } from './metadata/metadata.controller.js';
import type { ClavisServerOptions } from './options/clavis-server.options.js';
import { resolveServerOptions } from './options/resolve-server-options.js';
import { SERVER_SETTINGS, type ServerSettings } from './options/server-settings.js';
import { CLAVIS_ENTITIES } from './persistence/typeorm/index.js';
import { TypeOrmClientStore } from './persistence/typeorm/typeorm-client.store.js';
import { TypeOrmDenyList } from './persistence/typeorm/typeorm-deny-list.js';
import { TypeOrmReplayStore } from './persistence/typeorm/typeorm-replay.store.js';
import { TypeOrmSigningKeyStore } from './persistence/typeorm/typeorm-signing-key.store.js';
import { RedisConnection, RedisDenyList, RedisReplayStore } from './persistence/redis/redis-stores.js';
import { Clock, SystemClock } from './shared/clock.js';
import { AccessTokenIssuer } from './token/access-token.issuer.js';
import { ClientCredentialsGrant } from './token/client-credentials.grant.js';
import { DenyList } from './token/deny-list.js';
import { TokenController } from './token/token.controller.js';
import { IntrospectionController } from './token/introspection.controller.js';
import { RevocationController } from './token/revocation.controller.js';
import { AccessTokenInspector } from './token/access-token.inspector.js';
import { InMemoryRateLimiter, RateLimiter } from './rate-limit/rate-limiter.js';
import { RedisRateLimiter } from './rate-limit/redis-rate-limiter.js';
import { RateLimitService } from './rate-limit/rate-limit.service.js';
import { RegistrationController } from './registration/registration.controller.js';
import { InitialAccessTokenService } from './registration/initial-access-token.service.js';
import { InitialAccessTokenStore } from './registration/initial-access-token.store.js';
import { TypeOrmInitialAccessTokenStore } from './persistence/typeorm/typeorm-initial-access-token.store.js';
import { KeyEncryption } from './shared/crypto.js';
import { EncryptedValueStore } from './key-encryption/encrypted-value.store.js';
import { KeyEncryptionService } from './key-encryption/key-encryption.service.js';
import { TypeOrmEncryptedValueStore } from './persistence/typeorm/typeorm-encrypted-value.store.js';

/**
 * The Clavis authorization server, embedded in the host application. Its entities join the host's
 * TypeORM DataSource (add `CLAVIS_ENTITIES` and `CLAVIS_MIGRATIONS` to it); it opens no connection
 * of its own (except Redis, when `redisUrl` is set).
 * @example
 * ClavisServerModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ issuer: config.getOrThrow('ISSUER'), keyEncryptionKey: config.getOrThrow('CLAVIS_KEK') }),
 * })
 */
@Module({
  imports: [TypeOrmModule.forFeature(CLAVIS_ENTITIES)],
  controllers: [MetadataController, JwksController, TokenController, IntrospectionController, RevocationController, RegistrationController],
  providers: [
    {
      provide: SERVER_SETTINGS,
      inject: [MODULE_OPTIONS_TOKEN, CLAVIS_ROUTE_PREFIX],
      useFactory: (options: ClavisServerOptions, routePrefix: string) => resolveServerOptions({ ...options, routePrefix }),
    },
    { provide: Clock, inject: [SERVER_SETTINGS], useFactory: (s: ServerSettings) => s.clock ?? new SystemClock() },
    { provide: AuditSink, inject: [SERVER_SETTINGS], useFactory: (s: ServerSettings) => (s.auditSink ? new EscapingAuditSink(s.auditSink) : new LoggerAuditSink()) },
    { provide: ClientStore, useClass: TypeOrmClientStore },
    { provide: SigningKeyStore, useClass: TypeOrmSigningKeyStore },
    { provide: InitialAccessTokenStore, useClass: TypeOrmInitialAccessTokenStore },
    TypeOrmReplayStore,
    TypeOrmDenyList,
    { provide: RedisConnection, inject: [SERVER_SETTINGS], useFactory: (s: ServerSettings) => new RedisConnection(s.redisUrl) },
    { provide: ReplayStore, inject: [RedisConnection, TypeOrmReplayStore, Clock], useFactory: (r: RedisConnection, db: TypeOrmReplayStore, clock: Clock) => (r.client ? new RedisReplayStore(r.client, () => clock.nowSeconds()) : db) },
    { provide: DenyList, inject: [RedisConnection, TypeOrmDenyList, Clock], useFactory: (r: RedisConnection, db: TypeOrmDenyList, clock: Clock) => (r.client ? new RedisDenyList(r.client, () => clock.nowSeconds()) : db) },
    {
      provide: RateLimiter,
      inject: [RedisConnection, Clock],
      useFactory: (r: RedisConnection, clock: Clock) => (r.client ? new RedisRateLimiter(r.client) : new InMemoryRateLimiter(() => clock.now())),
    },
    RateLimitService,
    OAuthErrorFilter,
    ClientService,
    ClientJwksFetcher,
    ClientKeySource,
    { provide: JwsBackend, inject: [SERVER_SETTINGS], useFactory: (s: ServerSettings) => createJwsBackend(s.cryptoMode) },
    ...CLIENT_AUTH_PROVIDERS,
    ClientAuthenticator,
    SigningKeyService,
    AccessTokenIssuer,
    AccessTokenInspector,
    ClientCredentialsGrant,
    InitialAccessTokenService,
    HousekeepingService,
    { provide: KeyEncryption, inject: [SERVER_SETTINGS], useFactory: (s: ServerSettings) => new KeyEncryption(s.keyEncryptionKeys) },
    { provide: EncryptedValueStore, useClass: TypeOrmEncryptedValueStore },
    KeyEncryptionService,
  ],
  exports: [SERVER_SETTINGS, Clock, ClientService, SigningKeyService, InitialAccessTokenService, AccessTokenInspector, DenyList, HousekeepingService, KeyEncryption, KeyEncryptionService],
})
export class ClavisServerModule extends ConfigurableModuleClass {}

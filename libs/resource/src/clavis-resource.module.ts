import { Module } from '@nestjs/common';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { BearerTokenGuard } from './bearer-token.guard.js';
import { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } from './clavis-resource.module-definition.js';
import { RESOURCE_SETTINGS, resolveResourceOptions } from './resource-options.js';

/**
 * Protects routes with JWT access tokens: provides {@link AccessTokenVerifier} and {@link BearerTokenGuard}.
 * Adds no global guard: the host applies the guard per route or registers it as `APP_GUARD`. Import it
 * once (`isGlobal: true`) so every guarded module shares one key set and one verified-token cache.
 * @see RFC 6750 §2.1
 * @see RFC 9068 §4
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ClavisResourceModule.forRoot({ issuer: 'https://auth.example.com', audience: 'https://api.example.com', isGlobal: true }),
 *     // or: ClavisResourceModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ … }), isGlobal: true })
 *   ],
 *   controllers: [StatementsController],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  providers: [
    { provide: RESOURCE_SETTINGS, inject: [MODULE_OPTIONS_TOKEN], useFactory: resolveResourceOptions },
    AccessTokenVerifier,
    BearerTokenGuard,
  ],
  exports: [RESOURCE_SETTINGS, AccessTokenVerifier, BearerTokenGuard],
})
export class ClavisResourceModule extends ConfigurableModuleClass {}

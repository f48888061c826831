import {
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { ClavisResourceModule, type ClavisResourceOptions } from '@clavis/resource';
import { SigningKeyService } from '../keys/signing-key.service.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { AccessTokenInspector } from '../token/access-token.inspector.js';
import { LocalRevocations } from '../token/local-revocations.js';

/** Seconds between two revocation checks of a token in use, unless the host sets `revocationCheckInterval`. */
export const IN_PROCESS_REVOCATION_CHECK_INTERVAL = 1;

/**
 * Options of {@link ClavisInProcessResourceModule}: those of `ClavisResourceModule` that are the
 * API's own. The issuer, the key source, the deny list and the clock come from the server.
 */
export type ClavisInProcessResourceOptions = Omit<
  ClavisResourceOptions,
  'issuer' | 'keySource' | 'jwksUri' | 'isRevoked' | 'revocationGeneration' | 'clock'
>;

/** `forRootAsync()` of {@link ClavisInProcessResourceModule}. */
export interface ClavisInProcessResourceAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => ClavisInProcessResourceOptions | Promise<ClavisInProcessResourceOptions>;
  /** Make `BearerTokenGuard` available to every module. Default false. */
  isGlobal?: boolean;
}

/**
 * `@clavis/resource`'s guard in the same process as the authorization server, in one import: it
 * verifies access tokens with the server's own keys (re-read from the database when a token names
 * a key another instance has just activated), honours revocations (the server's deny list) and refuses tokens of deleted clients and
 * uses the server's clock. Needs `ClavisServerModule` imported with `isGlobal: true`.
 * @example
 * imports: [
 *   ClavisServerModule.forRoot({ issuer, keyEncryptionKey, isGlobal: true }),
 *   ClavisInProcessResourceModule.forRoot({ audience: 'https://api.example.com', isGlobal: true }),
 * ]
 * // then: @UseGuards(BearerTokenGuard) @RequireScopes(['statements:read']) on a route
 */
@Module({})
export class ClavisInProcessResourceModule {
  static forRoot(options: ClavisInProcessResourceOptions & { isGlobal?: boolean }): DynamicModule {
    const { isGlobal, ...resource } = options;
    return ClavisInProcessResourceModule.forRootAsync({ isGlobal, useFactory: () => resource });
  }

  static forRootAsync(options: ClavisInProcessResourceAsyncOptions): DynamicModule {
    const resource = ClavisResourceModule.forRootAsync({
      imports: options.imports,
      inject: [
        SERVER_SETTINGS,
        SigningKeyService,
        AccessTokenInspector,
        LocalRevocations,
        Clock,
        ...(options.inject ?? []),
      ],
      useFactory: async (
        settings: ServerSettings,
        keys: SigningKeyService,
        inspector: AccessTokenInspector,
        localRevocations: LocalRevocations,
        clock: Clock,
        ...args: unknown[]
      ) => {
        const own = await (
          options.useFactory as (
            ...a: unknown[]
          ) => ClavisInProcessResourceOptions | Promise<ClavisInProcessResourceOptions>
        )(...args);
        return {
          ...own,
          // A token in use is checked against the deny list and the client table at most once a second:
          // a revocation or a client deletion takes effect within that bound, on every instance (ADR 0028).
          revocationCheckInterval: own.revocationCheckInterval ?? IN_PROCESS_REVOCATION_CHECK_INTERVAL,
          issuer: settings.issuer,
          // In-process keys: re-reading them is a cheap, rate-limited database read, so an unknown
          // kid (a key another instance has just activated) is looked up without a cooldown.
          keySource: { getKeySet: () => keys.freshJwks() },
          jwksCooldown: 0,
          // Revoked, or its client deleted: a deleted client's tokens end here too (ADR 0012).
          isRevoked: (jti: string, claims: { client_id: string }) => inspector.isRevoked(jti, claims.client_id),
          // A revocation or deletion made through this instance: every cached token is checked again at once.
          revocationGeneration: () => localRevocations.generation,
          clock,
        };
      },
    });
    return {
      module: ClavisInProcessResourceModule,
      global: options.isGlobal ?? false,
      imports: [resource],
      exports: [resource],
    };
  }
}

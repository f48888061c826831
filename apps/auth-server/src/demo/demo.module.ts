import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClavisResourceModule } from '@clavis/resource';
import { AccessTokenInspector, Clock, SigningKeyService } from '@clavis/server';
import type { AppConfig } from '../config/app-config.js';
import { StatementsController } from './statements.controller.js';

/**
 * The demo resource server, in the same process as the authorization server: the guard takes its
 * keys from the in-process key service and asks the authorization server whether a verified token
 * still counts: not revoked, and its client not deleted (ADR 0012).
 */
@Module({
  imports: [
    ClavisResourceModule.forRootAsync({
      inject: [ConfigService, SigningKeyService, AccessTokenInspector, Clock],
      useFactory: (config: ConfigService, keys: SigningKeyService, inspector: AccessTokenInspector, clock: Clock) => {
        const app = config.getOrThrow<AppConfig>('app');
        return {
          issuer: app.issuer,
          audience: app.resourceAudience,
          // In-process keys: re-reading them is a cheap, rate-limited database read, so an unknown
          // kid (a key another instance has just activated) is looked up without a cooldown.
          keySource: { getKeySet: () => keys.freshJwks() },
          jwksCooldown: 0,
          isRevoked: (jti: string, claims: { client_id: string }) => inspector.isRevoked(jti, claims.client_id),
          clock,
        };
      },
    }),
  ],
  controllers: [StatementsController],
})
export class DemoModule {}

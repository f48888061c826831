import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClavisResourceModule } from '@clavis/resource';
import { Clock, DenyList, SigningKeyService } from '@clavis/server';
import type { AppConfig } from '../config/app-config.js';
import { StatementsController } from './statements.controller.js';

/**
 * The demo resource server, in the same process as the authorization server: the guard takes its
 * keys from the in-process key service and consults the revocation deny list.
 */
@Module({
  imports: [
    ClavisResourceModule.forRootAsync({
      inject: [ConfigService, SigningKeyService, DenyList, Clock],
      useFactory: (config: ConfigService, keys: SigningKeyService, denyList: DenyList, clock: Clock) => {
        const app = config.getOrThrow<AppConfig>('app');
        return {
          issuer: app.issuer,
          audience: app.resourceAudience,
          // In-process keys: re-reading them is a cheap, rate-limited database read, so an unknown
          // kid (a key another instance has just activated) is looked up without a cooldown.
          keySource: { getKeySet: () => keys.freshJwks() },
          jwksCooldown: 0,
          isRevoked: (jti: string) => denyList.isRevoked(jti),
          clock,
        };
      },
    }),
  ],
  controllers: [StatementsController],
})
export class DemoModule {}

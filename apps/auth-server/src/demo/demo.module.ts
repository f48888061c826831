import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClavisResourceModule } from '@clavis/resource';
import { DenyList, SigningKeyService } from '@clavis/server';
import type { AppConfig } from '../config/app-config.js';
import { StatementsController } from './statements.controller.js';

/**
 * The demo resource server, in the same process as the authorization server: the guard takes its
 * keys from the in-process key service and consults the revocation deny list.
 */
@Module({
  imports: [
    ClavisResourceModule.forRootAsync({
      inject: [ConfigService, SigningKeyService, DenyList],
      useFactory: (config: ConfigService, keys: SigningKeyService, denyList: DenyList) => {
        const app = config.getOrThrow<AppConfig>('app');
        return {
          issuer: app.issuer,
          audience: app.resourceAudience,
          keySource: { getKeySet: () => keys.freshJwks() },
          isRevoked: (jti: string) => denyList.isRevoked(jti),
        };
      },
    }),
  ],
  controllers: [StatementsController],
})
export class DemoModule {}

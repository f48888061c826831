import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClavisInProcessResourceModule } from '@clavis/server';
import type { AppConfig } from '../config/app-config.js';
import { StatementsController } from './statements.controller.js';

/**
 * The demo resource server, in the same process as the authorization server: the guard takes its
 * keys from the in-process key service and asks the authorization server whether a verified token
 * still counts: not revoked, and its client not deleted (ADR 0012).
 */
@Module({
  imports: [
    ClavisInProcessResourceModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({ audience: config.getOrThrow<AppConfig>('app').resourceAudience }),
    }),
  ],
  controllers: [StatementsController],
})
export class DemoModule {}

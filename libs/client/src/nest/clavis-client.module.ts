import { Module } from '@nestjs/common';
import { TokenClient, type TokenClientOptions } from '../token-client.js';
import { CLAVIS_CLIENT_OPTIONS, ConfigurableModuleClass } from './clavis-client.module-definition.js';

/**
 * Provides a {@link TokenClient} built from `forRoot(options)` or `forRootAsync({ useFactory, inject })`.
 * @example
 * ClavisClientModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ issuer, clientId, auth: clientSecretBasic(clientId, config.getOrThrow('SECRET')) }),
 * })
 * @see RFC 6749 §4.4
 */
@Module({
  providers: [
    {
      provide: TokenClient,
      inject: [CLAVIS_CLIENT_OPTIONS],
      useFactory: (options: TokenClientOptions) => new TokenClient(options),
    },
  ],
  exports: [TokenClient],
})
export class ClavisClientModule extends ConfigurableModuleClass {}

import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { TokenClientOptions } from '../token-client.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: CLAVIS_CLIENT_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TokenClientOptions>({
  moduleName: 'ClavisClient',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createClavisClientOptions')
  .setExtras({ isGlobal: false }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();

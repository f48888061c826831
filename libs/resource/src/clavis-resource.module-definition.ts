import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ClavisResourceOptions } from './resource-options.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<ClavisResourceOptions>({
  moduleName: 'ClavisResource',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createClavisResourceOptions')
  .setExtras({ isGlobal: false }, (definition, { isGlobal }) => ({ ...definition, global: isGlobal }))
  .build();

import { ConfigurableModuleBuilder } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import type { ClavisServerOptions } from './options/clavis-server.options.js';

/** DI token of the route prefix (a static extra: routes are fixed when the module is defined). */
export const CLAVIS_ROUTE_PREFIX = 'CLAVIS_ROUTE_PREFIX';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<ClavisServerOptions>({
  moduleName: 'ClavisServer',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createClavisServerOptions')
  .setExtras({ isGlobal: false, routePrefix: '' }, (definition, { isGlobal, routePrefix }) => ({
    ...definition,
    global: isGlobal,
    imports: [...(definition.imports ?? []), ...(routePrefix ? [RouterModule.register([{ path: routePrefix, module: definition.module }])] : [])],
    providers: [...(definition.providers ?? []), { provide: CLAVIS_ROUTE_PREFIX, useValue: routePrefix ?? '' }],
  }))
  .build();

import { ConfigurableModuleBuilder } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import type { ClavisServerOptions } from './options/clavis-server.options.js';
import type { ClavisStorage } from './persistence/storage.js';
import { typeOrmStorage } from './persistence/typeorm/typeorm-storage.js';

/** DI token of the route prefix (a static extra: routes are fixed when the module is defined). */
export const CLAVIS_ROUTE_PREFIX = 'CLAVIS_ROUTE_PREFIX';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<ClavisServerOptions>({
    moduleName: 'ClavisServer',
  })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createClavisServerOptions')
    // storage: a static extra too (its providers are fixed when the module is defined); TypeORM by default.
    .setExtras<{ isGlobal: boolean; routePrefix: string; storage?: ClavisStorage }>(
      { isGlobal: false, routePrefix: '', storage: undefined },
      (definition, { isGlobal, routePrefix, storage = typeOrmStorage() }) => ({
        ...definition,
        global: isGlobal,
        imports: [
          ...(definition.imports ?? []),
          ...(storage.imports ?? []),
          ...(routePrefix ? [RouterModule.register([{ path: routePrefix, module: definition.module }])] : []),
        ],
        providers: [
          ...(definition.providers ?? []),
          ...storage.providers,
          { provide: CLAVIS_ROUTE_PREFIX, useValue: routePrefix ?? '' },
        ],
      }),
    )
    .build();

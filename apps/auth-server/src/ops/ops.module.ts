import { Module, type DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { TerminusModule } from '@nestjs/terminus';
import { ClavisHealthIndicator } from '@clavis/server/health';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { OpenApiController } from './openapi.controller.js';
import { METRICS_REGISTRY } from './metrics.registry.js';

/**
 * What operators' tools read, outside the route prefix: `/health` (terminus, with Clavis's
 * indicator), `/metrics` (the app's prom-client registry, Clavis's metrics on it) and `/openapi.json`.
 */
@Module({})
export class OpsModule {
  /** `registry`: the app's prom-client registry, which Clavis's `metrics` option registers on too. */
  static forRoot(registry: Registry): DynamicModule {
    return {
      module: OpsModule,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
      controllers: [HealthController, MetricsController, OpenApiController],
      providers: [ClavisHealthIndicator, { provide: METRICS_REGISTRY, useValue: registry }],
    };
  }
}

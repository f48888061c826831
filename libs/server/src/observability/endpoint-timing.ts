import { Inject, Injectable, type NestMiddleware, type OnModuleInit, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ClavisMetrics, type ClavisEndpoint } from './clavis-metrics.js';
import { peekObservation } from './request-observation.js';

/** Metadata of a measured handler: its `endpoint` label (Nest copies it onto the route's handler). */
const CLAVIS_ENDPOINT = 'clavis:endpoint';
/** The metadata key of `@RouteConfig()` in @nestjs/platform-fastify: Fastify's per-route `config`. */
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';

/**
 * Labels every route handler of the given controllers with its endpoint, in Nest's metadata and in
 * Fastify's route `config`. Done once, when the module is defined, before Nest registers routes.
 */
export function markMeasuredRoutes(measured: readonly (readonly [Type<unknown>, ClavisEndpoint])[]): void {
  for (const [controller, endpoint] of measured) {
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      if (name === 'constructor') continue;
      const handler = Object.getOwnPropertyDescriptor(controller.prototype, name)?.value as object | undefined;
      if (typeof handler !== 'function') continue;
      Reflect.defineMetadata(CLAVIS_ENDPOINT, endpoint, handler);
      const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG, handler) as Record<string, unknown> | undefined) ?? {};
      Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG, { ...config, [CLAVIS_ENDPOINT]: endpoint }, handler);
    }
  }
}

interface FastifyLike {
  addHook(
    name: 'onResponse',
    hook: (
      request: { raw: IncomingMessage; routeOptions?: { config?: Record<string, unknown> } },
      reply: { statusCode: number; elapsedTime: number },
      done: () => void,
    ) => void,
  ): unknown;
}

/**
 * Times and counts the requests of Clavis's endpoints, when metrics are on (nothing is installed
 * otherwise). On Fastify one `onResponse` hook reads the route's label and Fastify's own elapsed
 * time: no middleware runs. On Express (or any other adapter) {@link endpointTimingMiddleware}
 * does the same, applied by the module to the measured controllers. (docs/adr/0026)
 */
@Injectable()
export class EndpointTiming implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(ClavisMetrics) private readonly metrics: ClavisMetrics,
  ) {}

  /** True when the module must time requests with a middleware (metrics on, an adapter other than Fastify). */
  get needsMiddleware(): boolean {
    const adapter = this.adapterHost?.httpAdapter;
    return this.metrics.enabled && Boolean(adapter) && adapter.getType() !== 'fastify';
  }

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!this.metrics.enabled || !adapter || adapter.getType() !== 'fastify') return;
    const metrics = this.metrics;
    (adapter.getInstance() as FastifyLike).addHook('onResponse', (request, reply, done) => {
      const endpoint = request.routeOptions?.config?.[CLAVIS_ENDPOINT] as ClavisEndpoint | undefined;
      if (endpoint !== undefined)
        metrics.requestFinished(endpoint, reply.statusCode, reply.elapsedTime / 1000, peekObservation(request.raw));
      done();
    });
  }
}

/** Express (and other adapters): times one request of a measured controller from before the guards to the response's end. */
export function endpointTimingMiddleware(metrics: ClavisMetrics, endpoint: ClavisEndpoint): NestMiddleware['use'] {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const start = performance.now();
    res.once('finish', () =>
      metrics.requestFinished(endpoint, res.statusCode, (performance.now() - start) / 1000, peekObservation(req)),
    );
    next();
  };
}

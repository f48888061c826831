import { Injectable, Logger, RequestMethod, type OnModuleInit, type Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { hideBodyFromHostParsers } from '../shared/form-body.js';

/** Marks a handler whose request body Clavis reads itself (copied by Nest onto the route's handler). */
export const CLAVIS_OWN_BODY = 'clavis:own-body';
/** The metadata key of `@RouteConfig()` in @nestjs/platform-fastify: Fastify's per-route `config`. */
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';
const BODILESS = new Set<number>([RequestMethod.GET, RequestMethod.HEAD, RequestMethod.OPTIONS]);

/**
 * Marks every route of the given controllers that may carry a body (POST, PUT, …) as one whose
 * body Clavis reads itself. Done once, when the module is defined, before Nest registers routes.
 */
export function markOwnBodyRoutes(controllers: readonly Type<unknown>[]): void {
  for (const controller of controllers) {
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = Object.getOwnPropertyDescriptor(controller.prototype, name)?.value as object | undefined;
      if (typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as number | undefined;
      if (method === undefined || BODILESS.has(method)) continue;
      Reflect.defineMetadata(CLAVIS_OWN_BODY, true, handler);
      const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG, handler) as Record<string, unknown> | undefined) ?? {};
      Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG, { ...config, [CLAVIS_OWN_BODY]: true }, handler);
    }
  }
}

interface FastifyLike {
  addHook(name: 'onRequest', hook: (request: { raw: IncomingMessage; routeOptions?: { config?: Record<string, unknown> } }, reply: unknown, done: () => void) => void): unknown;
}
interface ExpressLayer {
  handle: unknown;
  route?: { methods: Record<string, boolean>; stack: { handle: unknown }[] };
  matchers?: ((path: string) => unknown)[];
  match?(path: string): boolean;
}
interface ExpressLike {
  router?: { stack?: ExpressLayer[] };
  use(fn: (req: IncomingMessage, res: unknown, next: () => void) => void): unknown;
}

/**
 * Keeps the host's body parsers off Clavis's endpoints, whatever the host configured: the request
 * stream of a marked route reaches Clavis unread, so its own limits (413 `invalid_request`),
 * duplicate-parameter rule and RFC error shapes apply, while every other route of the host keeps
 * its parsers. No call in the host's `main.ts` is needed. (docs/adr/0018)
 *
 * - Fastify: an `onRequest` hook (it runs after routing, before content-type parsing) for the
 *   routes whose `config` carries the mark.
 * - Express: a middleware placed first in the application's router, ahead of `express.json()` /
 *   `express.urlencoded()` (which Nest registers before any module's code runs), matching
 *   requests with the route layers of the marked handlers — Express's own matching.
 */
@Injectable()
export class OwnBodyGate implements OnModuleInit {
  private readonly logger = new Logger('ClavisHttp');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return; // an application context (the CLI): no HTTP
    const type = adapter.getType();
    if (type === 'fastify') this.installOnFastify(adapter.getInstance() as FastifyLike);
    else if (type === 'express') this.installOnExpress(adapter.getInstance() as ExpressLike);
  }

  private installOnFastify(fastify: FastifyLike): void {
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (request.routeOptions?.config?.[CLAVIS_OWN_BODY] === true) hideBodyFromHostParsers(request.raw);
      done();
    });
  }

  private installOnExpress(express: ExpressLike): void {
    const stack = express.router?.stack;
    const routes = Array.isArray(stack) ? stack.filter((layer) => layer.route?.stack.some((s) => typeof s.handle === 'function' && Reflect.getMetadata(CLAVIS_OWN_BODY, s.handle) === true)) : [];
    if (!stack || !routes.length) {
      this.logger.warn('Clavis could not find its routes in the Express router: a host body parser, if any, reads its request bodies first');
      return;
    }
    express.use(function clavisOwnBody(req, _res, next) {
      const method = (req.method ?? '').toLowerCase();
      const path = pathnameOf(req.url ?? '/');
      if (routes.some((layer) => (layer.route!.methods[method] || layer.route!.methods._all) && matches(layer, path))) hideBodyFromHostParsers(req);
      next();
    });
    // express.use() appended it; it must run before every body parser.
    stack.unshift(stack.pop()!);
  }
}

function matches(layer: ExpressLayer, path: string): boolean {
  if (layer.matchers) return layer.matchers.some((m) => Boolean(m(path)));
  return Boolean(layer.match?.(path));
}

/** The path Express routes on (parseurl's pathname): origin-form, or the path of an absolute URL. */
function pathnameOf(url: string): string {
  if (url.startsWith('/')) return url.split(/[?#]/)[0]!;
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

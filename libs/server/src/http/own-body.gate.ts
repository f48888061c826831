import { Inject, Injectable, Logger, RequestMethod, type OnModuleInit, type Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { hideBodyFromHostParsers } from '../shared/form-body.js';

/** Marks a handler whose request body Clavis reads itself (copied by Nest onto the route's handler). */
const CLAVIS_OWN_BODY = 'clavis:own-body';
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

/** The content type a Clavis request carries through Fastify's parsing: its parser leaves the stream unread. */
const OWN_BODY_TYPE = 'application/x-clavis-own-body';

interface FastifyLike {
  addContentTypeParser(
    type: string,
    parser: (request: unknown, payload: unknown, done: (err: null, body?: undefined) => void) => void,
  ): unknown;
  addHook(
    name: 'onRequest',
    hook: (
      request: {
        raw: IncomingMessage;
        url: string;
        is404?: boolean;
        routeOptions?: { config?: Record<string, unknown> };
      },
      reply: unknown,
      done: () => void,
    ) => void,
  ): unknown;
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
 * - Fastify: an `onRequest` hook (it runs after routing, before content-type parsing) gives the
 *   request a content type of Clavis's own, whose parser leaves the stream unread, for the
 *   routes whose `config` carries the mark, and for requests that match no route but lie in
 *   Clavis's paths (`/register/x` with PATCH, say): they get Nest's 404 whatever their body, as
 *   without a host parser, instead of the parser's 400 or 415.
 * - Express: a middleware placed first in the application's router, ahead of `express.json()` /
 *   `express.urlencoded()` (which Nest registers before any module's code runs), matching
 *   requests with the route layers of the marked handlers — Express's own matching.
 */
@Injectable()
export class OwnBodyGate implements OnModuleInit {
  private readonly logger = new Logger('ClavisHttp');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SERVER_SETTINGS) private readonly settings: Pick<ServerSettings, 'routePrefix' | 'console'>,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return; // an application context (the CLI): no HTTP
    const type = adapter.getType();
    if (type === 'fastify') this.installOnFastify(adapter.getInstance() as FastifyLike);
    else if (type === 'express') this.installOnExpress(adapter.getInstance() as ExpressLike);
  }

  /** Requests to the operator console (its forms are read by the console itself). */
  private consoleMatcher(): (url: string) => boolean {
    const base = this.settings.console?.path.toLowerCase();
    if (!base) return () => false;
    return (url) => {
      const path = pathnameOf(url).toLowerCase();
      return path === base || path.startsWith(`${base}/`);
    };
  }

  private installOnFastify(fastify: FastifyLike): void {
    const prefix = this.settings.routePrefix.toLowerCase();
    const namespace = [
      '/token',
      '/introspect',
      '/revoke',
      '/register',
      '/jwks',
      '/.well-known/oauth-authorization-server',
    ].map((p) => `${prefix}${p}`);
    namespace.push('/.well-known/oauth-authorization-server');
    const inNamespace = (url: string) => {
      const path = pathnameOf(url).toLowerCase();
      return namespace.some((p) => path === p || path.startsWith(`${p}/`));
    };
    // Fastify must still see the body (Content-Length, Transfer-Encoding): a request it takes for
    // bodiless can have its unread body bytes parsed as the next request. Only the type changes.
    fastify.addContentTypeParser(OWN_BODY_TYPE, (_request, _payload, done) => done(null));
    const as = { contentType: OWN_BODY_TYPE };
    const inConsole = this.consoleMatcher();
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (
        request.routeOptions?.config?.[CLAVIS_OWN_BODY] === true ||
        (request.is404 === true && inNamespace(request.url)) ||
        inConsole(request.url)
      )
        hideBodyFromHostParsers(request.raw, as);
      done();
    });
  }

  private installOnExpress(express: ExpressLike): void {
    const stack = express.router?.stack;
    const routes = Array.isArray(stack)
      ? stack.filter((layer) =>
          layer.route?.stack.some(
            (s) => typeof s.handle === 'function' && Reflect.getMetadata(CLAVIS_OWN_BODY, s.handle) === true,
          ),
        )
      : [];
    if (!stack || !routes.length) {
      this.logger.warn(
        'Clavis could not find its routes in the Express router: a host body parser, if any, reads its request bodies first',
      );
      return;
    }
    const inConsole = this.consoleMatcher();
    express.use(function clavisOwnBody(req, _res, next) {
      const method = (req.method ?? '').toLowerCase();
      const path = pathnameOf(req.url ?? '/');
      if (
        routes.some((layer) => (layer.route!.methods[method] || layer.route!.methods._all) && matches(layer, path)) ||
        inConsole(req.url ?? '/')
      )
        hideBodyFromHostParsers(req);
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

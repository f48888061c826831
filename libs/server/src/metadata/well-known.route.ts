import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { buildMetadata, type MetadataSettings } from './metadata.controller.js';

const WELL_KNOWN = '/.well-known/oauth-authorization-server';

/**
 * The metadata at the RFC 8414 §3.1 location of an issuer with a path: for `https://host/oauth`,
 * `GET /.well-known/oauth-authorization-server/oauth` at the root of the origin, outside the route
 * prefix (and outside a global prefix of the host) — where strict clients look. (Also
 * `/.well-known/oauth-authorization-server` for an issuer without a path when the routes have a
 * prefix.) The prefixed location is served by {@link MetadataController}.
 */
@Injectable()
export class WellKnownMetadataRoute implements OnModuleInit {
  constructor(
    @Inject(SERVER_SETTINGS)
    private readonly settings: Pick<ServerSettings, 'issuerPath' | 'routePrefix'> & MetadataSettings,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return; // an application context (the CLI): no HTTP
    const path = `${WELL_KNOWN}${this.settings.issuerPath}`;
    if (path === `${this.settings.routePrefix}${WELL_KNOWN}`) return; // the controller's own route
    const document = buildMetadata(this.settings);
    adapter.get(path, (_req: unknown, res: unknown) => {
      adapter.setHeader(res, 'Cache-Control', 'public, max-age=300');
      adapter.reply(res, document, 200);
    });
  }
}

import { Controller, Get, Header } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { clavisOpenApiDocument } from '@clavis/server';
import type { AppConfig } from '../config/app-config.js';

/** `GET /openapi.json`: the OpenAPI 3.1 description of the Clavis endpoints this server exposes. */
@Controller()
export class OpenApiController {
  private readonly document: Record<string, unknown>;

  constructor(config: ConfigService) {
    const app = config.getOrThrow<AppConfig>('app');
    this.document = clavisOpenApiDocument({ serverUrl: `${new URL(app.issuer).origin}${app.routePrefix}` });
  }

  @Get('openapi.json')
  @Header('Cache-Control', 'public, max-age=300')
  openapi(): Record<string, unknown> {
    return this.document;
  }
}

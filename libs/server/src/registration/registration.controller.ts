import {
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { OAuthError } from '../errors/oauth-error.js';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { readJson, type HttpRequest } from '../shared/form-body.js';
import { RegistrationService, type RegistrationResponse } from './registration.service.js';

/**
 * `POST /register` (RFC 7591) and `GET/PUT/DELETE /register/:client_id` (RFC 7592): HTTP only
 * (rate limit, bearer token, body) mapped onto {@link RegistrationService}, which holds the rules.
 * @see RFC 7591 §3, RFC 7592 §2
 */
@Controller('register')
@UseFilters(OAuthErrorFilter)
export class RegistrationController {
  constructor(
    private readonly registration: RegistrationService,
    private readonly rateLimit: RateLimitService,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  @Post()
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async register(@Req() req: HttpRequest): Promise<RegistrationResponse> {
    await this.rateLimit.checkAddress(req, 'register');
    const admission = await this.registration.admit(bearer(req));
    return this.registration.register(admission, await this.readBody(req));
  }

  @Get(':client_id')
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async read(@Req() req: HttpRequest, @Param('client_id') clientId: string): Promise<RegistrationResponse> {
    await this.rateLimit.checkAddress(req, 'register');
    return this.registration.read(clientId, bearer(req));
  }

  @Put(':client_id')
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async update(@Req() req: HttpRequest, @Param('client_id') clientId: string): Promise<RegistrationResponse> {
    await this.rateLimit.checkAddress(req, 'register');
    // A quick 401 before the body is read; the authorisation that counts is at the write (ADR 0010).
    await this.registration.authorize(clientId, bearer(req));
    return this.registration.update(clientId, bearer(req)!, await this.readBody(req));
  }

  @Delete(':client_id')
  @HttpCode(204)
  @Header('Cache-Control', 'no-store')
  async remove(
    @Req() req: HttpRequest,
    @Res({ passthrough: true }) _res: ServerResponse,
    @Param('client_id') clientId: string,
  ): Promise<void> {
    await this.rateLimit.checkAddress(req, 'register');
    await this.registration.authorize(clientId, bearer(req));
    await this.registration.remove(clientId, bearer(req)!);
  }

  private readBody(req: HttpRequest): Promise<unknown> {
    return readJson(req, this.settings.limits.jsonBytes, (d) => OAuthError.invalidMetadata(d));
  }
}

function bearer(req: HttpRequest): string | undefined {
  const m = /^\s*bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

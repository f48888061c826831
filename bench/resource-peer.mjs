// A resource server for bench/guard.bench.mjs: NestJS on Fastify (the demo server's platform) with the
// same handler twice, `GET /statements` behind `BearerTokenGuard` in remote mode (keys from the
// issuer's `jwks_uri`, found by RFC 8414 discovery) and `GET /open/statements` unguarded, so that the
// guard's cost is the only difference. Plain ESM: the decorators are applied by hand, and
// `@clavis/resource` is its built `dist` (the bench builds it first).
// Env: PORT, ISSUER, AUDIENCE.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { BearerTokenGuard, ClavisResourceModule, RequireScopes } from '../libs/resource/dist/index.js';

const statements = (clientId) => ({
  client_id: clientId,
  statements: [
    { id: 'st_2026_10', period: '2026-10', balance: '1204.50' },
    { id: 'st_2026_11', period: '2026-11', balance: '1311.20' },
  ],
});

const decorate = (decorators, target, key) =>
  Reflect.decorate(decorators, target, key, key && Object.getOwnPropertyDescriptor(target, key));

class GuardedController {
  list(req) {
    return statements(req.clavisClaims.client_id);
  }
}
decorate([Get(), RequireScopes(['statements:read'])], GuardedController.prototype, 'list');
Req()(GuardedController.prototype, 'list', 0);
decorate([Controller('statements'), UseGuards(BearerTokenGuard)], GuardedController);

class OpenController {
  list() {
    return statements('anonymous');
  }
}
decorate([Get()], OpenController.prototype, 'list');
decorate([Controller('open/statements')], OpenController);

// The floor of any guard: Nest's guard machinery and the @Req() parameter with a guard that only says yes.
class AllowGuard {
  canActivate() {
    return true;
  }
}
decorate([Injectable()], AllowGuard);

class AllowController {
  list(req) {
    return statements(req.headers.authorization ? '0123456789abcdef0123456789abcdef' : 'anonymous');
  }
}
decorate([Get()], AllowController.prototype, 'list');
Req()(AllowController.prototype, 'list', 0);
decorate([Controller('allow/statements'), UseGuards(AllowGuard)], AllowController);

class AppModule {}
decorate(
  [
    Module({
      imports: [ClavisResourceModule.forRoot({ issuer: process.env.ISSUER, audience: process.env.AUDIENCE })],
      controllers: [GuardedController, OpenController, AllowController],
      providers: [AllowGuard],
    }),
  ],
  AppModule,
);

const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['fatal', 'error', 'warn'] });
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT), '127.0.0.1');
process.stdout.write(`resource peer on ${process.env.PORT}\n`);

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Body,
  Controller,
  Get,
  Module,
  Post,
  UseGuards,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BearerTokenGuard, RequireScopes, TokenClaims } from '@clavis/resource';
import {
  CLAVIS_ENTITIES,
  CLAVIS_MIGRATIONS,
  ClavisInProcessResourceModule,
  ClavisServerModule,
  runClavisCli,
} from '@clavis/server';
import { basic, expectOAuthError, postForm } from '../support/http.js';
import { jsonRequest } from '../support/registration.js';
import { freePort, TEST_KEK } from '../support/test-app.js';

/** The host's own API: one guarded route, one JSON route relying on the host's body parser. */
@Controller('api')
class HostApiController {
  @Get('data')
  @UseGuards(BearerTokenGuard)
  @RequireScopes(['data:read'])
  data(@TokenClaims('client_id') clientId: string) {
    return { for: clientId };
  }

  @Post('echo')
  echo(@Body() body: unknown) {
    return { received: body ?? null };
  }
}

/**
 * A host application as its authors would write it, outside the demo app: its own TypeORM
 * connection, Clavis under /oauth with a path issuer, the guard in the same process in one import,
 * the first-run initial access token as a module option.
 */
@Module({})
class HostAppModule {
  static forRoot(opts: { issuer: string; sqlitePath: string }): DynamicModule {
    return {
      module: HostAppModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: opts.sqlitePath,
          entities: [...CLAVIS_ENTITIES],
          migrations: [...CLAVIS_MIGRATIONS],
          migrationsRun: true,
        }),
        ClavisServerModule.forRoot({
          issuer: opts.issuer,
          keyEncryptionKey: TEST_KEK,
          routePrefix: '/oauth',
          isGlobal: true,
          scopes: ['data:read'],
          firstRunInitialAccessToken: { print: true },
        }),
        ClavisInProcessResourceModule.forRoot({ audience: opts.issuer, isGlobal: true }),
      ],
      controllers: [HostApiController],
    };
  }
}

/** Runs `fn` with stdout captured. */
async function capturingStdout<T>(fn: () => Promise<T>): Promise<{ result: T; stdout: string }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    out.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write);
  try {
    return { result: await fn(), stdout: out.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe.each(['express', 'fastify'] as const)(
  'a host application embedding Clavis (%s, NestFactory.create defaults)',
  (adapter) => {
    let app: INestApplication;
    let base: string;
    let issuer: string;
    let sqlitePath: string;
    let firstRunOutput: string;
    const module = () => HostAppModule.forRoot({ issuer, sqlitePath });

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      issuer = `${base}/oauth`;
      sqlitePath = join(mkdtempSync(join(tmpdir(), 'clavis-host-')), 'host.sqlite');
      // Exactly what `nest new` gives a host, plus the module imports: no body-parser option, no helper.
      const created = await capturingStdout(async () => {
        app =
          adapter === 'fastify'
            ? await NestFactory.create(module(), new FastifyAdapter(), { logger: false })
            : await NestFactory.create(module(), { logger: false });
        await app.listen(port, '127.0.0.1');
      });
      firstRunOutput = created.stdout;
    });
    afterAll(() => app?.close());

    const firstRunToken = () => /Clavis first run: .*\n\n\s+(\S+)\n/.exec(firstRunOutput)?.[1];

    it('firstRunInitialAccessToken prints one initial access token at the first start', () => {
      expect(firstRunOutput).toContain(`POST ${issuer}/register`);
      expect(firstRunToken()).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    });

    it('register with it, get a token, call the guarded host route (in-process keys); after revocation → 401', async () => {
      const reg = await jsonRequest(`${issuer}/register`, {
        method: 'POST',
        body: { client_name: 'host', token_endpoint_auth_method: 'client_secret_basic', scope: 'data:read' },
        token: firstRunToken(),
      });
      expect(reg.status, reg.text).toBe(201);
      const auth = basic(reg.json.client_id, reg.json.client_secret);
      const token = await postForm(`${issuer}/token`, { grant_type: 'client_credentials' }, auth);
      expect(token.status, token.text).toBe(200);
      const call = () => fetch(`${base}/api/data`, { headers: { authorization: `Bearer ${token.json.access_token}` } });
      const ok = await call();
      expect({ status: ok.status, body: await ok.json() }).toEqual({ status: 200, body: { for: reg.json.client_id } });
      expect((await postForm(`${issuer}/revoke`, { token: token.json.access_token }, auth)).status).toBe(200);
      const revoked = await call();
      expect(revoked.status).toBe(401);
      expect(revoked.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    });

    it("Clavis keeps its limits under the host parser (20 KB → 413); the host's JSON route keeps its parser", async () => {
      const res = await postForm(
        `${issuer}/token`,
        { grant_type: 'client_credentials', pad: 'x'.repeat(20_000) },
        basic('a', 'b'),
      );
      expectOAuthError(res, 413, 'invalid_request');
      const echo = await fetch(`${base}/api/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,2]}',
      });
      expect({ status: echo.status, body: await echo.json() }).toEqual({
        status: 201,
        body: { received: { a: [1, 2] } },
      });
    });

    it('the metadata is at the RFC 8414 §3.1 location of the path issuer', async () => {
      const res = await fetch(`${base}/.well-known/oauth-authorization-server/oauth`);
      expect(res.status).toBe(200);
      expect((await res.json()).token_endpoint).toBe(`${issuer}/token`);
    });

    it("runClavisCli around the host's module: an initial access token that registers a client; no first-run output", async () => {
      const { result: code, stdout } = await capturingStdout(() =>
        runClavisCli(module, ['initial-tokens', 'create', '--uses', '1']),
      );
      expect(code).toBe(0);
      expect(stdout).not.toContain('first run');
      const created = JSON.parse(stdout);
      const reg = await jsonRequest(`${issuer}/register`, {
        method: 'POST',
        body: { token_endpoint_auth_method: 'client_secret_basic' },
        token: created.initial_access_token,
      });
      expect(reg.status, reg.text).toBe(201);
      const listed = await capturingStdout(() => runClavisCli(module, ['clients', 'list']));
      expect(listed.result).toBe(0);
      expect(JSON.parse(listed.stdout).map((c: { client_id: string }) => c.client_id)).toContain(reg.json.client_id);
    });

    it('a second start on the same database prints no first-run token', async () => {
      const port = await freePort();
      const again = await capturingStdout(async () => {
        const second =
          adapter === 'fastify'
            ? await NestFactory.create(HostAppModule.forRoot({ issuer, sqlitePath }), new FastifyAdapter(), {
                logger: false,
              })
            : await NestFactory.create(HostAppModule.forRoot({ issuer, sqlitePath }), { logger: false });
        await second.listen(port, '127.0.0.1');
        await second.close();
      });
      expect(again.stdout).not.toContain('first run');
    });
  },
);

import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { INestApplication, LoggerService, Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  ClientService,
  FixedClock,
  InitialAccessTokenService,
  SigningKeyService,
  clavisFastifyOptions,
  configureClavisHttp,
  type ClientMetadata,
} from '@clavis/server';
import { MemoryAuditSink } from '@clavis/server/testing';
import { AppModule } from '../../apps/auth-server/src/app.module.js';

/** A fixed test KEK (32 bytes). */
export const TEST_KEK = 'dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM';

export interface TestApp {
  app: INestApplication;
  /** The issuer identifier (by default the base URL). */
  issuer: string;
  /** Where this instance listens, e.g. http://127.0.0.1:41234 (several instances may share one issuer). */
  baseUrl: string;
  tokenEndpoint: string;
  clock: FixedClock;
  audit: MemoryAuditSink;
  clients: ClientService;
  keys: SigningKeyService;
  initialTokens: InitialAccessTokenService;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The real apps/auth-server AppModule over real HTTP on 127.0.0.1: in-memory SQLite by default,
 * PostgreSQL when DATABASE_URL is set, Redis when REDIS_URL is set; a FixedClock and an in-memory
 * audit sink are injected.
 */
/** The HTTP adapter under test: Fastify (what the server ships with) unless TEST_HTTP_ADAPTER=express. */
export const TEST_HTTP_ADAPTER = process.env.TEST_HTTP_ADAPTER === 'express' ? 'express' : 'fastify';

/**
 * The host's body parsing: `on` (Nest's default, what `nest new` gives a host: JSON and urlencoded
 * parsers on every route) unless TEST_BODY_PARSER=off (`bodyParser: false`).
 */
export const TEST_BODY_PARSER = process.env.TEST_BODY_PARSER === 'off' ? 'off' : 'on';

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  clock?: FixedClock;
  port?: number;
  adapter?: 'fastify' | 'express';
  /** An audit sink to inject instead of a fresh MemoryAuditSink. */
  audit?: MemoryAuditSink;
  /** A logger for the whole app (default: none, or Nest's with TEST_LOGS set). */
  logger?: LoggerService;
  /** The host's body parsing (default TEST_BODY_PARSER). */
  bodyParser?: 'on' | 'off';
  /** Controllers of the host application, beside Clavis and the demo API. */
  hostControllers?: Type<unknown>[];
}

export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const port = opts.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const issuer = opts.env?.ISSUER ?? baseUrl;
  const clock = opts.clock ?? new FixedClock(Date.now());
  const audit = opts.audit ?? new MemoryAuditSink();
  const env: Record<string, string | undefined> = {
    ISSUER: issuer,
    PORT: String(port),
    CLAVIS_KEK: TEST_KEK,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'clavis-test-')),
    SQLITE_PATH: ':memory:',
    JWKS_ALLOWED_HOSTS: 'localhost,127.0.0.1',
    // Tests send many requests from one address; rate limiting has its own test with small limits.
    RATE_LIMIT_TOKEN_PER_ADDRESS: '1000000',
    RATE_LIMIT_TOKEN_PER_CLIENT: '1000000',
    RATE_LIMIT_REGISTER_PER_ADDRESS: '1000000',
    RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '1000000',
    CONSOLE_LOGIN_ATTEMPTS_PER_ADDRESS: '10000',
    ...opts.env,
  };
  const testing = Test.createTestingModule({
    imports: [AppModule.forRoot({ env, clock, auditSink: audit, firstRun: false })],
    controllers: opts.hostControllers ?? [],
  });
  const moduleRef = await (opts.logger ? testing.setLogger(opts.logger) : testing).compile();
  const options = {
    bodyParser: (opts.bodyParser ?? TEST_BODY_PARSER) === 'on',
    logger: opts.logger ?? (process.env.TEST_LOGS ? undefined : (false as const)),
  };
  const http = {
    requestTimeout: env.REQUEST_TIMEOUT ? Number(env.REQUEST_TIMEOUT) : undefined,
    trustProxy: env.TRUST_PROXY,
    maxConnectionsPerAddress: env.MAX_CONNECTIONS_PER_ADDRESS ? Number(env.MAX_CONNECTIONS_PER_ADDRESS) : undefined,
  };
  const app =
    (opts.adapter ?? TEST_HTTP_ADAPTER) === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(clavisFastifyOptions(http)), options)
      : moduleRef.createNestApplication(options);
  if (opts.logger) app.useLogger(opts.logger);
  configureClavisHttp(app, http);
  try {
    await app.listen(port, '127.0.0.1');
  } catch (e) {
    // A boot that fails (e.g. a key-encryption key that does not match the data) leaves no open connection behind.
    await app.close().catch(() => undefined);
    throw e;
  }
  const prefix = env.ROUTE_PREFIX ?? '';
  return {
    app,
    issuer,
    baseUrl,
    tokenEndpoint: `${baseUrl}${prefix}/token`,
    clock,
    audit,
    clients: app.get(ClientService),
    keys: app.get(SigningKeyService),
    initialTokens: app.get(InitialAccessTokenService),
    close: () => app.close(),
  };
}

/** Creates a client through the service (the operator path); returns its credentials. */
export async function createClient(t: TestApp, metadata: ClientMetadata) {
  const issued = await t.clients.create({ scope: 'statements:read', ...metadata }, { withRegistrationToken: true });
  return {
    clientId: issued.client.clientId,
    clientSecret: issued.clientSecret!,
    registrationAccessToken: issued.registrationAccessToken!,
    client: issued.client,
  };
}

import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { InitialAccessTokenService } from '@clavis/server';
import { AppModule } from './app.module.js';
import { checks } from './checks.js';

/**
 * The packaging test's host: boots the app (body parsing as `nest new` leaves it), creates an initial
 * access token through the exported service, runs the checks against itself over HTTP and prints one
 * JSON line per check. HOST_ADAPTER=express|fastify, DATABASE_URL (PostgreSQL) or SQLite in memory.
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 4100);
  const issuer = `http://localhost:${port}/oauth`;
  const url = process.env.DATABASE_URL;
  const module = AppModule.forRoot({
    database: url ? { type: 'postgres', url } : { type: 'sqlite' },
    issuer,
    keyEncryptionKey: randomBytes(32).toString('base64url'),
  });
  const app =
    process.env.HOST_ADAPTER === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error', 'warn'] })
      : await NestFactory.create(module, { logger: ['error', 'warn'] });
  await app.listen(port, '127.0.0.1');
  const { token } = await app.get(InitialAccessTokenService).create({ description: 'packaging test', expiresIn: 600 });

  let failed = 0;
  for (const check of checks({ base: `http://127.0.0.1:${port}`, issuer, initialAccessToken: token })) {
    const result = await check.run().then(
      () => ({ ok: true }),
      (e: unknown) => ({ ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
    if (!result.ok) failed++;
    process.stdout.write(`${JSON.stringify({ check: check.name, ...result })}\n`);
  }
  await app.close();
  process.exitCode = failed ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { loadConfig, StatementsApiEnvironmentError } from './config.js';

/** `node dist/apps/statements-api/main.js`: serves GET /statements, trusting tokens of `ISSUER`. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: ['fatal', 'error', 'warn', 'log'],
  });
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  await (config.host ? app.listen(config.port, config.host) : app.listen(config.port));
  process.stdout.write(
    `statements-api listening on port ${config.port}, accepting tokens from ${config.issuer} for ${config.audience.join(', ')}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${e instanceof StatementsApiEnvironmentError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});

import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { clavisFastifyOptions, runClavisCli } from '@clavis/server';
import { AppModule } from './app.module.js';
import { EnvironmentError, loadConfig } from './config/app-config.js';

/** `node main.js` serves; `node main.js <command> …` is the operator CLI (see `--help`). */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length) {
    // The shared runner of @clavis/server around this app's module, as any host writes it.
    process.exitCode = await runClavisCli(() => AppModule.forRoot({ checkpointInWorker: false }), args);
    return;
  }
  const config = loadConfig(process.env);
  // The host's body parsing stays as Nest makes it: Clavis reads its own request bodies.
  const adapter = new FastifyAdapter(clavisFastifyOptions({ trustProxy: config.trustProxy, requestTimeout: config.requestTimeout }));
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(), adapter, { logger: config.logLevels });
  app.enableShutdownHooks();
  // Fastify listens on localhost only unless told otherwise: default to every interface, like Express.
  await app.listen(config.port, config.host ?? '::');
  process.stdout.write(`Clavis listening on port ${config.port}, issuer ${config.issuer}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof EnvironmentError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

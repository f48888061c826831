import 'reflect-metadata';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { clavisFastifyOptions, configureClavisHttp, runClavisCli } from '@clavis/server';
import { AppModule } from './app.module.js';
import { EnvironmentError, loadConfig } from './config/app-config.js';
import { describeKekMismatch } from './config/kek-mismatch.js';

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
  const http = {
    trustProxy: config.trustProxy,
    requestTimeout: config.requestTimeout,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
  };
  const adapter = new FastifyAdapter(clavisFastifyOptions(http));
  // LOG_FORMAT=json (the default in production): one JSON object a line, structured fields (audit events) as members.
  const logger =
    config.logFormat === 'json'
      ? new ConsoleLogger({ json: true, flattenParams: true, logLevels: config.logLevels })
      : config.logLevels;
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(), adapter, { logger });
  configureClavisHttp(app, http);
  app.enableShutdownHooks();
  // Fastify listens on localhost only unless told otherwise: default to every interface, like Express.
  await app.listen(config.port, config.host ?? '::');
  if (config.logFormat === 'json') new Logger('Clavis').log('listening', { port: config.port, issuer: config.issuer });
  else process.stdout.write(`Clavis listening on port ${config.port}, issuer ${config.issuer}\n`);
}

main().catch((e: unknown) => {
  const kek = describeKekMismatch(e, process.env);
  // One line, no stack, for the server and for a CLI command (both boot the same application).
  if (kek) process.stderr.write(`${process.argv.length > 2 ? 'error' : 'Clavis cannot start'}: ${kek}\n`);
  else
    process.stderr.write(
      `${e instanceof EnvironmentError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
  process.exit(1);
});

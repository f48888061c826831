import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { runCli } from './cli/cli.js';
import { configureHttp, createHttpAdapter } from './http.js';
import { EnvironmentError, loadConfig } from './config/app-config.js';
import { describeKekMismatch } from './config/kek-mismatch.js';

/** `node main.js` serves; `node main.js <command> …` is the operator CLI (see `--help`). */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length) {
    process.exitCode = await runCli(args);
    return;
  }
  const config = loadConfig(process.env);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(), createHttpAdapter({ trustProxy: config.trustProxy, requestTimeout: config.requestTimeout }), { bodyParser: false, logger: config.logLevels });
  configureHttp(app, { trustProxy: config.trustProxy, maxConnectionsPerAddress: config.maxConnectionsPerAddress });
  app.enableShutdownHooks();
  // Fastify listens on localhost only unless told otherwise: default to every interface, like Express.
  await app.listen(config.port, config.host ?? '::');
  process.stdout.write(`Clavis listening on port ${config.port}, issuer ${config.issuer}\n`);
}

main().catch((e: unknown) => {
  const kek = describeKekMismatch(e, process.env);
  // One line, no stack, for the server and for a CLI command (both boot the same application).
  if (kek) process.stderr.write(`${process.argv.length > 2 ? 'error' : 'Clavis cannot start'}: ${kek}\n`);
  else process.stderr.write(`${e instanceof EnvironmentError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

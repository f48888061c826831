import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  AuditSink,
  CLAVIS_ENTITIES,
  CLAVIS_MIGRATIONS,
  ClavisServerModule,
  Clock,
  LoggerAuditSink,
} from '@clavis/server';
import { loadConfig, type AppConfig } from './config/app-config.js';
import { SqliteCheckpointService } from './sqlite-checkpoint.service.js';
import { DemoModule } from './demo/demo.module.js';
import { OpsModule } from './ops/ops.module.js';
import { createMetricsRegistry } from './ops/metrics.registry.js';

/** Test and embedding hooks: environment overrides, and a clock or audit sink to inject. */
export interface AppModuleOptions {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  auditSink?: AuditSink;
  /** Print the first-run initial access token (default true; tests turn it off; the CLI never prints it). */
  firstRun?: boolean;
  /** On SQLite, run WAL checkpoints in a worker thread (default true; the short-lived CLI turns it off). */
  checkpointInWorker?: boolean;
}

/** Composition only: config → TypeORM (the host's own connection) → Clavis → demo API. */
@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions = {}): DynamicModule {
    const env = { ...process.env, ...opts.env };
    const routePrefix = env.ROUTE_PREFIX ?? '';
    const registry = createMetricsRegistry();
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: () => ({ app: loadConfig(env) }) }),
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => typeOrmOptions(config.getOrThrow<AppConfig>('app')),
        }),
        ClavisServerModule.forRootAsync({
          isGlobal: true,
          routePrefix,
          inject: [ConfigService],
          useFactory: (config: ConfigService) => {
            const app = config.getOrThrow<AppConfig>('app');
            return {
              ...app.server,
              issuer: app.issuer,
              keyEncryptionKey: app.kek.value,
              redisUrl: app.redisUrl,
              clock: opts.clock,
              // With JSON logs, audit events are structured fields of their line (not a JSON string in the message).
              auditSink:
                opts.auditSink ?? (app.logFormat === 'json' ? new LoggerAuditSink({ structured: true }) : undefined),
              // Never printed in production: a credential on stdout would end up in the log store (ADR 0026).
              firstRunInitialAccessToken: { print: opts.firstRun ?? !app.production },
              metrics: app.metrics ? { registry } : undefined,
            };
          },
        }),
        DemoModule,
        OpsModule.forRoot(registry),
      ],
      providers: opts.checkpointInWorker === false ? [] : [SqliteCheckpointService],
    };
  }
}

/** The app's own DataSource, which Clavis joins: SQLite by default, PostgreSQL with DATABASE_URL. */
export function typeOrmOptions(app: AppConfig): TypeOrmModuleOptions {
  const common = {
    entities: [...CLAVIS_ENTITIES],
    migrations: [...CLAVIS_MIGRATIONS],
    migrationsRun: true,
    synchronize: false,
    logging: false,
  };
  if (app.database.type === 'postgres')
    return { ...common, type: 'postgres', url: app.database.url, extra: { max: 10, connectionTimeoutMillis: 3_000 } };
  return {
    ...common,
    type: 'better-sqlite3',
    database: app.database.path,
    enableWAL: app.database.path !== ':memory:',
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
    },
  };
}

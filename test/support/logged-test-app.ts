import { inspect } from 'node:util';
import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FixedClock, LoggerAuditSink, type AuditEvent } from '@clavis/server';
import { MemoryAuditSink } from '@clavis/server/testing';
import { createTestApp, type TestApp } from './test-app.js';

const ALL_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** A Nest LoggerService that keeps every message of every level (nothing is printed). */
export class CapturingLogger implements LoggerService {
  readonly entries: { level: LogLevel; message: string }[] = [];

  log(message: unknown, ...params: unknown[]) {
    this.push('log', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.push('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.push('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.push('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.push('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.push('fatal', message, params);
  }
  /** Every level stays on, whatever the app asks for. */
  setLogLevels(): void {}

  /** All captured output as one text. */
  text(): string {
    return this.entries.map((e) => `[${e.level}] ${e.message}`).join('\n');
  }

  private push(level: LogLevel, message: unknown, params: unknown[]) {
    this.entries.push({ level, message: [message, ...params].map(render).join(' ') });
  }
}

/** Anything a log call may carry, as text (errors with their stack, objects in full). */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error)
    return `${value.stack ?? value.message}${value.cause ? ` cause: ${render(value.cause)}` : ''}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return inspect(value, { depth: 10 });
  }
}

/** Keeps every audit event in memory and also writes it through the default logger sink (as production does). */
export class TeeAuditSink extends MemoryAuditSink {
  private readonly toLog = new LoggerAuditSink();
  override record(event: AuditEvent): void {
    super.record(event);
    this.toLog.record(event);
  }
}

export interface LoggedTestApp extends TestApp {
  logs: CapturingLogger;
  audit: TeeAuditSink;
  dataSource: DataSource;
}

/**
 * createTestApp's twin with all log output captured: a CapturingLogger at every level (also the
 * static Logger instances of the libraries), and audit events both kept and logged.
 */
export async function createLoggedTestApp(
  opts: { env?: Record<string, string | undefined>; clock?: FixedClock } = {},
): Promise<LoggedTestApp> {
  const audit = new TeeAuditSink();
  const logs = new CapturingLogger();
  // Loggers created before the app (static `new Logger(...)` fields) follow the override too.
  Logger.overrideLogger(logs);
  Logger.overrideLogger(ALL_LEVELS);
  const t = await createTestApp({ ...opts, env: { LOG_LEVEL: 'verbose', ...opts.env }, audit, logger: logs });
  Logger.overrideLogger(ALL_LEVELS);
  return { ...t, audit, logs, dataSource: t.app.get(DataSource) };
}

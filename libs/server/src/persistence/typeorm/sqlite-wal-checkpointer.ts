import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';

interface SqliteConnection {
  name: string;
  memory: boolean;
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

export interface SqliteWalCheckpointerOptions {
  /** How often the worker checkpoints (ms). Default 1000. */
  intervalMs?: number;
  /** Told when the worker fails; SQLite's own checkpointing is back on by then. */
  onError?: (error: Error) => void;
}

// CommonJS, run by `new Worker(…, { eval: true })`: its own connection to the same file.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)');
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  try { checkpoint(); } finally { db.close(); parentPort.close(); }
});
`;

/**
 * Moves SQLite's WAL checkpoints off the event loop. better-sqlite3 is synchronous: by default the
 * connection that commits also runs the automatic checkpoint (every 1000 WAL pages), copying pages
 * into the database file and syncing it on the main thread — half the wall time of a committed
 * insert under load, and most of a purge of expired rows (over a second for 70 000 rows). This
 * turns automatic checkpoints off on the DataSource's connection and runs a PASSIVE checkpoint
 * every second from a worker thread with its own connection; PASSIVE never waits for, nor blocks,
 * the writer. If the worker fails, automatic checkpoints are turned back on.
 *
 * For hosts on SQLite in WAL mode (the demo server starts one); a no-op for other databases, for
 * `:memory:` and when the journal is not WAL. Stop it before the DataSource is destroyed.
 */
export class SqliteWalCheckpointer {
  private worker?: Worker;
  private connection?: SqliteConnection;
  private defaultAutoCheckpoint = 1000;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: SqliteWalCheckpointerOptions = {},
  ) {}

  /** Starts the worker; false when there is nothing to do (not SQLite in WAL mode on a file). */
  start(): boolean {
    if (this.worker || this.dataSource.options.type !== 'better-sqlite3') return false;
    const db = (
      this.dataSource.driver as unknown as {
        databaseConnection?: SqliteConnection;
      }
    ).databaseConnection;
    if (!db || db.memory || db.pragma('journal_mode', { simple: true }) !== 'wal') return false;
    this.connection = db;
    this.defaultAutoCheckpoint = Number(db.pragma('wal_autocheckpoint', { simple: true })) || 1000;
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: db.name,
        intervalMs: this.options.intervalMs ?? 1000,
      },
    });
    worker.unref();
    worker.on('error', (error) => this.failed(worker, error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.failed(worker, new Error(`WAL checkpoint worker exited (code ${code})`));
    });
    this.worker = worker;
    db.pragma('wal_autocheckpoint = 0');
    return true;
  }

  /** Stops the worker after a last checkpoint, and gives the connection its automatic checkpoints back. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.restoreAutoCheckpoint();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    const timeout = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timeout);
  }

  /** Whether checkpoints currently run in the worker. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  private failed(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.restoreAutoCheckpoint();
    void worker.terminate();
    this.options.onError?.(error);
  }

  private restoreAutoCheckpoint(): void {
    try {
      this.connection?.pragma(`wal_autocheckpoint = ${this.defaultAutoCheckpoint}`);
    } catch {
      // The connection is already closed: nothing left to checkpoint from it.
    }
  }
}

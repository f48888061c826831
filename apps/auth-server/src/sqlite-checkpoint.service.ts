import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SqliteWalCheckpointer } from '@clavis/server';
import type { DataSource } from 'typeorm';

/** On the SQLite default: WAL checkpoints run in a worker thread, not on the event loop (see SqliteWalCheckpointer). */
@Injectable()
export class SqliteCheckpointService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ClavisSqlite');
  private readonly checkpointer: SqliteWalCheckpointer;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.checkpointer = new SqliteWalCheckpointer(dataSource, {
      onError: (e) => this.logger.warn(`WAL checkpoints are back on the main thread: ${e.message}`),
    });
  }

  onApplicationBootstrap(): void {
    this.checkpointer.start();
  }

  // Before TypeORM closes the connection (onApplicationShutdown).
  async beforeApplicationShutdown(): Promise<void> {
    await this.checkpointer.stop();
  }
}

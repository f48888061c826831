/** One dependency of the storage that a health check pings (e.g. `database`, `redis`). */
export interface StorageComponent {
  readonly name: string;
  /** Resolves when the component answers; rejects (or never settles) when it does not. */
  ping(): Promise<unknown>;
}

/**
 * Optional storage port: what the storage depends on, for health checks. `typeOrmStorage()` provides
 * it (the host's DataSource, and Redis when configured); a storage without it reports no component.
 */
export abstract class StorageHealth {
  abstract components(): StorageComponent[];
}

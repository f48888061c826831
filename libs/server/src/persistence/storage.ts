import type { ModuleMetadata, Provider } from '@nestjs/common';
import { StorageUnavailableError } from '../errors/oauth-error.js';

/**
 * Where Clavis keeps its state: the providers of every storage port (ClientStore, SigningKeyStore,
 * InitialAccessTokenStore, ReplayStore, DenyList, EncryptedValueStore, RateLimiter), and the modules
 * they need. Passed to `ClavisServerModule.forRoot({ storage })`; `typeOrmStorage()` by default,
 * `inMemoryStorage()` (from `@clavis/server/testing`) for tests without a database.
 * @see docs/adr/0019-storage-is-a-port.md
 */
export interface ClavisStorage {
  /** A name for logs and errors, e.g. `typeorm` or `memory`. */
  readonly name: string;
  readonly imports?: ModuleMetadata['imports'];
  readonly providers: Provider[];
}

/** Network error codes that mean "the database or Redis is unreachable", whatever the driver. */
export const NETWORK_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/**
 * Class decorator of a storage adapter: every method's failure that `isOutage` recognises (the
 * driver's own codes and messages) is rethrown as one `StorageUnavailableError`, so that nothing
 * outside the adapters knows a driver. Other errors (conflicts, bugs) pass unchanged.
 */
export function TranslatesDriverFailures(storage: string, isOutage: (error: unknown) => boolean): ClassDecorator {
  const translate = (error: unknown): never => {
    if (error instanceof StorageUnavailableError || !isOutage(error)) throw error;
    throw new StorageUnavailableError(`${storage}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  };
  return (target) => {
    const prototype = (target as unknown as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = Object.getOwnPropertyDescriptor(prototype, name)?.value;
      if (name === 'constructor' || typeof method !== 'function') continue;
      prototype[name] = function (this: unknown, ...args: unknown[]) {
        try {
          const result = (method as (...a: unknown[]) => unknown).apply(this, args);
          return result instanceof Promise ? result.catch(translate) : result;
        } catch (error) {
          return translate(error);
        }
      };
    }
  };
}

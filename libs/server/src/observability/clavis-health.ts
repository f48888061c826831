import { Injectable, Optional } from '@nestjs/common';
import { SigningKeyService } from '../keys/signing-key.service.js';
import { StorageHealth } from './storage-health.js';

/** One checked dependency: `up`, or `down` with a short reason (never a connection string or credential). */
export interface ComponentHealth {
  status: 'up' | 'down';
  /** For the signing key: the active key's id. */
  kid?: string;
  message?: string;
}

/** The health of a Clavis instance: every storage component and an active signing key. */
export interface ClavisHealthReport {
  healthy: boolean;
  /** By component: `database`, `redis` (when configured), `signingKey`. */
  components: Record<string, ComponentHealth>;
}

const DEFAULT_TIMEOUT = 3_000;

/**
 * Checks what a Clavis instance needs to serve: each storage component answers (`SELECT 1`, Redis
 * `PING`) within the timeout, and a signing key is active. Used by the `@nestjs/terminus` indicator
 * (`@clavis/server/health`) and usable alone.
 */
@Injectable()
export class ClavisHealth {
  constructor(
    private readonly keys: SigningKeyService,
    @Optional() private readonly storage?: StorageHealth,
  ) {}

  async check(options: { timeout?: number } = {}): Promise<ClavisHealthReport> {
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    const checks: [string, () => Promise<ComponentHealth>][] = [
      ...(this.storage?.components() ?? []).map(
        (c) =>
          [c.name, async () => (await c.ping(), { status: 'up' as const })] as [string, () => Promise<ComponentHealth>],
      ),
      ['signingKey', async () => ({ status: 'up', kid: (await this.keys.activeKey()).kid })],
    ];
    const results = await Promise.all(
      checks.map(async ([name, run]) => [name, await withTimeout(run, timeout)] as const),
    );
    const components = Object.fromEntries(results);
    return { healthy: results.every(([, r]) => r.status === 'up'), components };
  }
}

async function withTimeout(run: () => Promise<ComponentHealth>, ms: number): Promise<ComponentHealth> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ComponentHealth>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'down', message: `no answer within ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([run().catch((e: unknown) => ({ status: 'down' as const, message: reason(e) })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short reason: the error's class and code, not its message (which may name hosts or users). */
function reason(e: unknown): string {
  if (!(e instanceof Error)) return 'failed';
  const code = (e as { code?: unknown }).code ?? (e.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? `${e.name} (${code})` : e.name;
}

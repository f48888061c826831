import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ClavisHealth } from '../observability/clavis-health.js';

/**
 * A `@nestjs/terminus` health indicator for Clavis: the database, Redis when configured, and an
 * active signing key (see {@link ClavisHealth}). Provide it in the module that imports
 * `TerminusModule` (ClavisServerModule must be visible there: `isGlobal`, or imported).
 * @example
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.clavis.isHealthy('clavis')]); }
 */
@Injectable()
export class ClavisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly clavis: ClavisHealth,
  ) {}

  /** `up` with each component's state, or `down` with the same details when any component is down. */
  async isHealthy<const Key extends string = 'clavis'>(key: Key = 'clavis' as Key, options: { timeout?: number } = {}) {
    const indicator = this.indicators.check(key);
    const { healthy, components } = await this.clavis.check(options);
    return healthy ? indicator.up(components) : indicator.down(components);
  }
}

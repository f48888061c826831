import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ClavisHealthIndicator } from '@clavis/server/health';

/** `GET /health`: 200 when the database, Redis (when configured) and a signing key are up; 503 with details otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly clavis: ClavisHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.clavis.isHealthy('clavis')]);
  }
}

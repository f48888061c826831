import { Module, type DynamicModule } from '@nestjs/common';
import { ClavisResourceModule, type ResourceClock } from '@clavis/resource';
import { StatementsController } from './statements.controller.js';

/** What the app needs: the trusted issuer and this API's audience; a clock for tests. */
export interface StatementsApiOptions {
  issuer: string;
  audience: string | string[];
  /** Time source of the token checks. Default: the system clock. */
  clock?: ResourceClock;
}

/**
 * Composition only: a resource server in its own process, knowing nothing of Clavis but its issuer
 * URL. `ClavisResourceModule` discovers the `jwks_uri` from the issuer's RFC 8414 metadata on the first
 * request and keeps the keys (refetched on an unknown `kid`, at most once per cooldown).
 */
@Module({})
export class AppModule {
  static forRoot(options: StatementsApiOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ClavisResourceModule.forRoot({ issuer: options.issuer, audience: options.audience, clock: options.clock }),
      ],
      controllers: [StatementsController],
    };
  }
}

import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ClientService } from '../clients/client.service.js';
import { InitialAccessTokenService } from '../registration/initial-access-token.service.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';

/**
 * On the very first start (no clients, no initial access tokens) creates one initial access token
 * and prints it once, so a developer can register a client straight away.
 * Option `firstRunInitialAccessToken`; only an application serving HTTP does it (never the CLI).
 */
@Injectable()
export class FirstRunService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ClavisFirstRun');

  constructor(
    private readonly clients: ClientService,
    private readonly initialTokens: InitialAccessTokenService,
    @Inject(SERVER_SETTINGS)
    private readonly settings: Pick<ServerSettings, 'endpointBase' | 'firstRunInitialAccessToken' | 'registration'>,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (
      !this.settings.firstRunInitialAccessToken ||
      this.settings.registration !== 'initial_access_token' ||
      !this.adapterHost?.httpAdapter
    )
      return;
    if ((await this.clients.list()).length || (await this.initialTokens.list()).length) return;
    const { token } = await this.initialTokens.create({ description: 'first-run token', expiresIn: 7 * 86_400 });
    // Printed once, to the console only: it is not stored anywhere readable.
    process.stdout.write(
      `\n  Clavis first run: an initial access token for POST ${this.settings.endpointBase}/register (valid 7 days):\n\n    ${token}\n\n` +
        `  It is shown only now. Create more with the operator CLI: initial-tokens create\n\n`,
    );
    this.logger.log('first-run initial access token created');
  }
}

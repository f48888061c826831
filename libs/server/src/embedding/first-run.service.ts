import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ClientService, InitialAccessTokenService, SERVER_SETTINGS, type ServerSettings } from '@clavis/server';

/**
 * On the very first start (no clients, no initial access tokens) creates one initial access token
 * and prints it once, so a developer can register a client straight away.
 */
@Injectable()
export class FirstRunService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ClavisFirstRun');

  constructor(
    @Inject('FIRST_RUN_ENABLED') private readonly enabled: boolean,
    private readonly clients: ClientService,
    private readonly initialTokens: InitialAccessTokenService,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled || this.settings.registration !== 'initial_access_token') return;
    if ((await this.clients.list()).length || (await this.initialTokens.list()).length) return;
    const { token } = await this.initialTokens.create({ description: 'first-run token', expiresIn: 7 * 86_400 });
    // Printed once, to the console only: it is not stored anywhere readable.
    process.stdout.write(
      `\n  Clavis first run: an initial access token for POST ${this.settings.endpointBase}/register (valid 7 days):\n\n    ${token}\n\n` +
        `  It is shown only now. Create more with: npm run cli -- initial-tokens create\n\n`,
    );
    this.logger.log('first-run initial access token created');
  }
}

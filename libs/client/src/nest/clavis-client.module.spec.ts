import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { clientSecretBasic } from '../auth/client-secret-basic.js';
import { TokenClient, type TokenClientOptions } from '../token-client.js';
import { CLAVIS_CLIENT_OPTIONS, ClavisClientModule } from './index.js';

const options: TokenClientOptions = {
  issuer: 'https://as.example',
  clientId: 'svc',
  auth: clientSecretBasic('svc', 's3cr3t'),
};

@Injectable()
class Settings {
  readonly clavis = options;
}
@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

describe('ClavisClientModule', () => {
  it('forRoot provides a TokenClient built from the options', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ClavisClientModule.forRoot(options)],
    }).compile();
    const client = moduleRef.get(TokenClient);
    expect(client).toBeInstanceOf(TokenClient);
    expect([client.issuer, client.clientId]).toEqual(['https://as.example', 'svc']);
    expect(moduleRef.get(CLAVIS_CLIENT_OPTIONS)).toMatchObject({
      issuer: 'https://as.example',
    });
  });

  it('forRootAsync takes the options from a factory with injected dependencies', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClavisClientModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (s: Settings) => s.clavis,
        }),
      ],
    }).compile();
    expect(moduleRef.get(TokenClient).auth.method).toBe('client_secret_basic');
  });

  it('is not global unless isGlobal is set', () => {
    expect(ClavisClientModule.forRoot(options).global).toBe(false);
    expect(ClavisClientModule.forRoot({ ...options, isGlobal: true }).global).toBe(true);
  });
});

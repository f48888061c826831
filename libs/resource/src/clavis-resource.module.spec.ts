import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { BearerTokenGuard } from './bearer-token.guard.js';
import { ClavisResourceModule } from './clavis-resource.module.js';
import { ClavisResourceConfigurationError } from './resource-options.js';

const options = { issuer: 'https://auth.example.com', audience: 'https://api.example.com' };

@Controller()
class PingController {
  @Get('ping')
  @UseGuards(BearerTokenGuard)
  ping() {
    return 'pong';
  }
}

@Module({ controllers: [PingController] })
class FeatureModule {}

describe('ClavisResourceModule', () => {
  it('validates the options once at boot, listing every problem', async () => {
    const compiling = Test.createTestingModule({
      imports: [ClavisResourceModule.forRoot({ issuer: 'ftp://x', audience: '' })],
    }).compile();
    await expect(compiling).rejects.toBeInstanceOf(ClavisResourceConfigurationError);
    await expect(compiling).rejects.toThrow(
      'Invalid Clavis resource options:\n - issuer must be an https URL (http only for localhost)\n - audience is required: a non-empty string or list of strings',
    );
  });

  it('resolves the options from forRootAsync', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ClavisResourceModule.forRootAsync({ useFactory: async () => options })],
    }).compile();
    expect(moduleRef.get(AccessTokenVerifier)).toBeInstanceOf(AccessTokenVerifier);
  });

  it('with isGlobal, guards routes of modules that do not import it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ClavisResourceModule.forRoot({ ...options, isGlobal: true }), FeatureModule],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const res = await request(app.getHttpServer()).get('/ping');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="https://api.example.com"');
    } finally {
      await app.close();
    }
  });
});

import { Test } from '@nestjs/testing';
import { register as globalRegister, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { ClavisServerModule, ClientService, FixedClock, type ClavisMetricsOptions } from '@clavis/server';
import { inMemoryStorage } from '@clavis/server/testing';
import { basic, postForm } from '../support/http.js';
import { freePort, TEST_KEK } from '../support/test-app.js';

/**
 * A host's metrics: Clavis's are off without the `metrics` option, register on prom-client's global
 * registry with `metrics: {}`, on the host's own with `metrics: { registry }`; an application created
 * again in the same process (a host's own tests) takes over the names instead of failing.
 */
async function host(metrics?: ClavisMetricsOptions) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const moduleRef = await Test.createTestingModule({
    imports: [
      ClavisServerModule.forRoot({
        issuer: base,
        keyEncryptionKey: TEST_KEK,
        clock: new FixedClock(Date.now()),
        storage: inMemoryStorage(),
        metrics,
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(port, '127.0.0.1');
  const issued = await app.get(ClientService).create({ scope: 'statements:read' });
  const token = () =>
    postForm(
      `${base}/token`,
      { grant_type: 'client_credentials' },
      basic(issued.client.clientId, issued.clientSecret!),
    );
  return { app, token };
}

describe("metrics on the host's registry", () => {
  afterAll(() => globalRegister.clear());

  it('off without the option: nothing registered', async () => {
    globalRegister.clear();
    const h = await host();
    expect((await h.token()).status).toBe(200);
    expect(await globalRegister.metrics()).not.toContain('clavis_');
    await h.app.close();
  });

  it("metrics: {} → prom-client's global registry; a second application in the process takes the names over", async () => {
    globalRegister.clear();
    const first = await host({});
    expect((await first.token()).status).toBe(200);
    expect(await globalRegister.metrics()).toMatch(
      /^clavis_token_requests_total\{method="client_secret_basic",outcome="success"\} 1$/m,
    );
    await first.app.close();
    const second = await host({});
    expect((await second.token()).status).toBe(200);
    expect((await second.token()).status).toBe(200);
    expect(await globalRegister.metrics()).toMatch(
      /^clavis_token_requests_total\{method="client_secret_basic",outcome="success"\} 2$/m,
    );
    await second.app.close();
  });

  it('metrics: { registry, prefix } → the host’s registry only', async () => {
    globalRegister.clear();
    const registry = new Registry();
    const h = await host({ registry, prefix: 'auth_' });
    expect((await h.token()).status).toBe(200);
    const text = await registry.metrics();
    expect(text).toMatch(/^auth_token_requests_total\{method="client_secret_basic",outcome="success"\} 1$/m);
    expect(text).toMatch(/^auth_replay_store_entries 0$/m);
    expect(await globalRegister.metrics()).not.toContain('auth_');
    await h.app.close();
  });
});

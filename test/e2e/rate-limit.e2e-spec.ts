import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postForm } from '../support/http.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

describe('rate limiting', () => {
  let t: TestApp;
  let c: { clientId: string; clientSecret: string };
  let d: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        RATE_LIMIT_WINDOW: '60',
        RATE_LIMIT_TOKEN_PER_ADDRESS: '8',
        RATE_LIMIT_TOKEN_PER_CLIENT: '3',
        RATE_LIMIT_REGISTER_PER_ADDRESS: '2',
        REDIS_URL: undefined,
      },
    });
    c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    d = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
  });
  afterAll(() => t.close());

  const token = (x: { clientId: string; clientSecret: string }) =>
    postForm(`${t.baseUrl}/token`, { grant_type: 'client_credentials' }, basic(x.clientId, x.clientSecret));

  it('limits authenticated token requests per client: 429 with Retry-After and an OAuth error body', async () => {
    for (let i = 0; i < 3; i++) expect((await token(c)).status).toBe(200);
    const res = await token(c);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(res.json).toEqual({ error: 'temporarily_unavailable', error_description: 'too many requests; retry later' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    // another client is not affected by c's budget
    expect((await token(d)).status).toBe(200);
  });

  it('limits requests per source address, failed ones included (brute force)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await postForm(`${t.baseUrl}/token`, { grant_type: 'client_credentials' }, basic(d.clientId, 'guess'))).status,
      );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  it('the window ends and requests pass again', async () => {
    t.clock.advance(61);
    expect((await token(d)).status).toBe(200);
  });

  it('limits /register per source address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (
          await fetch(`${t.baseUrl}/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          })
        ).status,
      );
    expect(statuses).toEqual([401, 401, 429]);
  });
});

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Slow clients on the shipped (Fastify) server: a request that does not arrive within
 * REQUEST_TIMEOUT — headers or body trickled, or never finished — is answered 408 and its
 * connection closed, while other clients are served meanwhile.
 */
describe('slow clients (REQUEST_TIMEOUT=1)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ adapter: 'fastify', env: { REQUEST_TIMEOUT: '1' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Opens a raw connection, writes `start`, then `drip` every `everyMs` until the server closes it. */
  function slowClient(
    start: string,
    drip?: string,
    everyMs = 200,
  ): Promise<{ response: string; closedAfterMs: number }> {
    const { port } = new URL(t.baseUrl);
    return new Promise((resolve, reject) => {
      const began = Date.now();
      let response = '';
      const socket: Socket = connect(Number(port), '127.0.0.1', () => socket.write(start));
      const timer = drip ? setInterval(() => socket.writable && socket.write(drip), everyMs) : undefined;
      const safety = setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after 8 s; received: ${JSON.stringify(response)}`));
      }, 8_000);
      socket.on('data', (d) => (response += d.toString('latin1')));
      socket.on('error', () => undefined); // a reset after the 408 is fine
      socket.on('close', () => {
        clearInterval(timer);
        clearTimeout(safety);
        resolve({ response, closedAfterMs: Date.now() - began });
      });
    });
  }

  const tokenRequest = async () =>
    (
      await fetch(`${t.baseUrl}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      })
    ).status;

  it('a body trickled a byte at a time → 408 and closed after about 1 s; other clients are served meanwhile', async () => {
    const slow = slowClient(
      'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ngrant_type=',
      'a',
    );
    expect(await tokenRequest()).toBe(401); // served (no client credentials) while the slow one waits
    const { response, closedAfterMs } = await slow;
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(closedAfterMs).toBeLessThan(4_000);
  });

  it('headers never finished → 408 and closed', async () => {
    const { response, closedAfterMs } = await slowClient(
      'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n',
      'X-a: b\r\n',
      300,
    );
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeLessThan(4_000);
  });

  it('a declared body that never comes → 408 and closed', async () => {
    const { response, closedAfterMs } = await slowClient(
      'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeLessThan(4_000);
  });

  it('an ordinary keep-alive client is not cut off between requests', async () => {
    expect(await tokenRequest()).toBe(401);
    await new Promise((r) => setTimeout(r, 1_500)); // longer than REQUEST_TIMEOUT, idle between requests
    expect(await tokenRequest()).toBe(401);
  });
});

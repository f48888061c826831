import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * TRUST_PROXY through a real forwarding hop: a node:http reverse proxy in front of the app that
 * appends the address it saw to X-Forwarded-For, as nginx's $proxy_add_x_forwarded_for does.
 * Clients connect from distinct loopback addresses (127.0.0.2, 127.0.0.3, …: Linux routes all of
 * 127/8 to lo). The per-address token budget (3 per window) shows which address the app believed.
 */

interface Proxy {
  url: string;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const seen = req.socket.remoteAddress!.replace(/^::ffff:/, '');
    const prior = [req.headers['x-forwarded-for'] ?? []].flat().join(', ');
    const headers: IncomingHttpHeaders = { ...req.headers, 'x-forwarded-for': prior ? `${prior}, ${seen}` : seen };
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
        localAddress: '127.0.0.1',
      },
      (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** POST /token (no client credentials) from `from`, to `base`, with an optional client-set X-Forwarded-For. */
function tokenFrom(base: string, from: string, xff?: string): Promise<number> {
  const url = new URL('/token', base);
  const body = 'grant_type=client_credentials';
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          ...(xff ? { 'x-forwarded-for': xff } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const LIMITS = { RATE_LIMIT_WINDOW: '60', RATE_LIMIT_TOKEN_PER_ADDRESS: '3', REDIS_URL: undefined };

/** `count` requests; the statuses. */
async function burst(count: number, send: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await send());
  return out;
}

describe.each(['fastify', 'express'] as const)('TRUST_PROXY through a forwarding hop (%s)', (adapter) => {
  describe('a hop count (TRUST_PROXY=1)', () => {
    let t: TestApp;
    let proxy: Proxy;
    beforeAll(async () => {
      t = await createTestApp({ adapter, env: { ...LIMITS, TRUST_PROXY: '1' } });
      proxy = await startProxy(t.baseUrl);
    });
    afterAll(async () => {
      await proxy.close();
      await t.close();
    });

    it('two clients behind the proxy get separate rate-limit buckets', async () => {
      expect(await burst(4, () => tokenFrom(proxy.url, '127.0.0.2'))).toEqual([401, 401, 401, 429]);
      expect(await tokenFrom(proxy.url, '127.0.0.3')).toBe(401);
    });

    it('an X-Forwarded-For a client sets itself is not believed beyond the trusted hop', async () => {
      // 127.0.0.2's budget is spent; claiming other addresses in front of the proxy does not reset it.
      expect(await tokenFrom(proxy.url, '127.0.0.2', '203.0.113.7')).toBe(429);
      expect(await tokenFrom(proxy.url, '127.0.0.2', '203.0.113.8, 198.51.100.9')).toBe(429);
    });
  });

  describe('a hop count of two (an outer proxy the client side names)', () => {
    let t: TestApp;
    let proxy: Proxy;
    beforeAll(async () => {
      t = await createTestApp({ adapter, env: { ...LIMITS, TRUST_PROXY: '2' } });
      proxy = await startProxy(t.baseUrl);
    });
    afterAll(async () => {
      await proxy.close();
      await t.close();
    });

    it('the address the outer hop reported is the client: two of them, two buckets', async () => {
      expect(await burst(4, () => tokenFrom(proxy.url, '127.0.0.2', '10.0.0.1'))).toEqual([401, 401, 401, 429]);
      expect(await tokenFrom(proxy.url, '127.0.0.2', '10.0.0.2')).toBe(401);
    });

    it('a spoofed chain with more hops than trusted is not believed', async () => {
      // "1.1.1.1, 10.0.0.1" + the proxy's hop: only the two nearest hops are trusted → 10.0.0.1, whose budget is spent.
      expect(await tokenFrom(proxy.url, '127.0.0.2', '1.1.1.1, 10.0.0.1')).toBe(429);
    });
  });

  describe('the proxy by address (TRUST_PROXY=127.0.0.1)', () => {
    let t: TestApp;
    let proxy: Proxy;
    beforeAll(async () => {
      t = await createTestApp({ adapter, env: { ...LIMITS, TRUST_PROXY: '127.0.0.1' } });
      proxy = await startProxy(t.baseUrl);
    });
    afterAll(async () => {
      await proxy.close();
      await t.close();
    });

    it('clients behind the listed proxy get separate buckets', async () => {
      expect(await burst(4, () => tokenFrom(proxy.url, '127.0.0.4'))).toEqual([401, 401, 401, 429]);
      expect(await tokenFrom(proxy.url, '127.0.0.5'), 'another client behind the proxy').toBe(401);
    });

    it('a client that reaches the server directly cannot pick its address with X-Forwarded-For', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push(await tokenFrom(t.baseUrl, '127.0.0.6', `10.1.0.${i + 1}`));
      expect(statuses).toEqual([401, 401, 401, 429]);
    });
  });

  describe('TRUST_PROXY=true', () => {
    let t: TestApp;
    let proxy: Proxy;
    beforeAll(async () => {
      t = await createTestApp({ adapter, env: { ...LIMITS, TRUST_PROXY: 'true' } });
      proxy = await startProxy(t.baseUrl);
    });
    afterAll(async () => {
      await proxy.close();
      await t.close();
    });

    it('the farthest address is the client', async () => {
      expect(await burst(4, () => tokenFrom(proxy.url, '127.0.0.2', '10.2.0.1'))).toEqual([401, 401, 401, 429]);
      expect(await tokenFrom(proxy.url, '127.0.0.2', '10.2.0.2')).toBe(401);
    });
  });
});

describe('TRUST_PROXY values that mean nothing are refused at boot', () => {
  it.each(['yes', '10.0.0.0/33', '10.0.0.1,', 'example.com', '99', '1.2.3.4/8x'])('%s', async (value) => {
    await expect(createTestApp({ env: { TRUST_PROXY: value } })).rejects.toThrow(
      /TRUST_PROXY .*: use true, a hop count 1–32, or comma-separated addresses\/CIDRs/,
    );
  });
});

import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * MAX_CONNECTIONS_PER_ADDRESS: one address cannot hold more than the cap of open (idle keep-alive)
 * connections. Clients connect from distinct loopback addresses (Linux routes all of 127/8 to lo).
 */

/** Opens a connection from `from` and sends one keep-alive request; resolves with the status line, or 'closed' when the server hung up. */
function openAndRequest(port: number, from: string): Promise<{ socket: Socket; status: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    let data = '';
    let done = false;
    const finish = (status: string) => {
      if (done) return;
      done = true;
      resolve({ socket, status });
    };
    socket.on('connect', () => socket.write('GET /jwks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) finish(data.slice(0, data.indexOf('\r\n')));
    });
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
  });
}

describe.each(['fastify', 'express'] as const)('per-address connection cap (%s)', (adapter) => {
  const CAP = 5;
  let t: TestApp;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await createTestApp({ adapter, env: { MAX_CONNECTIONS_PER_ADDRESS: String(CAP) } });
    port = Number(new URL(t.baseUrl).port);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  afterAll(() => t.close());

  it(`an address holding ${CAP} idle keep-alive connections cannot open another; other addresses can`, async () => {
    for (let i = 0; i < CAP; i++) {
      const { socket, status } = await openAndRequest(port, '127.0.0.7');
      sockets.push(socket);
      expect(status, `connection ${i + 1}`).toBe('HTTP/1.1 200 OK');
    }
    const over = await openAndRequest(port, '127.0.0.7');
    sockets.push(over.socket);
    expect(over.status, 'connection over the cap').toBe('closed');
    // The held connections still work, and another address is not affected.
    const other = await openAndRequest(port, '127.0.0.8');
    sockets.push(other.socket);
    expect(other.status).toBe('HTTP/1.1 200 OK');
    expect((await fetch(`${t.baseUrl}/jwks`)).status).toBe(200);
  });

  it('a closed connection frees its place', async () => {
    const held: Socket[] = [];
    for (let i = 0; i < CAP; i++) held.push((await openAndRequest(port, '127.0.0.9')).socket);
    sockets.push(...held);
    expect((await openAndRequest(port, '127.0.0.9')).status).toBe('closed');
    const closed = new Promise((resolve) => held[0].once('close', resolve));
    held[0].end();
    await closed;
    // The server learns of the close asynchronously: a few attempts, each waiting on the server's answer.
    let status = 'closed';
    for (let attempt = 0; attempt < 20 && status === 'closed'; attempt++) {
      const next = await openAndRequest(port, '127.0.0.9');
      sockets.push(next.socket);
      status = next.status;
    }
    expect(status).toBe('HTTP/1.1 200 OK');
  });
});

describe('a trusted proxy is exempt from the connection cap', () => {
  it('TRUST_PROXY=127.0.0.10: that address may hold more connections than the cap; others may not', async () => {
    const t = await createTestApp({ env: { MAX_CONNECTIONS_PER_ADDRESS: '2', TRUST_PROXY: '127.0.0.10' } });
    const port = Number(new URL(t.baseUrl).port);
    const opened: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const { socket, status } = await openAndRequest(port, '127.0.0.10');
        opened.push(socket);
        expect(status, `proxy connection ${i + 1}`).toBe('HTTP/1.1 200 OK');
      }
      for (let i = 0; i < 2; i++) opened.push((await openAndRequest(port, '127.0.0.11')).socket);
      const over = await openAndRequest(port, '127.0.0.11');
      opened.push(over.socket);
      expect(over.status).toBe('closed');
    } finally {
      for (const s of opened) s.destroy();
      await t.close();
    }
  });
});

describe('MAX_CONNECTIONS_PER_ADDRESS configuration', () => {
  it('refuses a value that is not a whole number', async () => {
    await expect(createTestApp({ env: { MAX_CONNECTIONS_PER_ADDRESS: 'many' } })).rejects.toThrow(
      /MAX_CONNECTIONS_PER_ADDRESS must be a whole number/,
    );
  });
});

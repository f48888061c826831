import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the fake server saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  form: URLSearchParams;
  json: unknown;
}

/** What the fake server answers. */
export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
}

export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>`, also used as the issuer. */
  url: string;
  requests: RecordedRequest[];
  /** Requests to one path. */
  requestsTo(path: string): RecordedRequest[];
  close(): Promise<void>;
}

/** RFC 8414 metadata of a fake server. */
export function metadataFor(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    issuer,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    ...extra,
  };
}

/**
 * A real `node:http` server on 127.0.0.1, port 0, that records every request and answers with
 * `handle`. Metadata is served at `/.well-known/oauth-authorization-server` unless `handle` answers it.
 */
export async function startFakeServer(
  handle: (request: RecordedRequest, url: string) => FakeResponse | undefined | Promise<FakeResponse | undefined>,
): Promise<FakeHttpServer> {
  const requests: RecordedRequest[] = [];
  let url = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        body,
        form: new URLSearchParams(body),
        json,
      };
      requests.push(recorded);
      let answer: FakeResponse | undefined;
      try {
        answer = await handle(recorded, url);
      } catch (error) {
        answer = { status: 599, body: String(error) };
      }
      if (!answer && recorded.path === '/.well-known/oauth-authorization-server') answer = { json: metadataFor(url) };
      answer ??= { status: 404, json: { error: 'not_found' } };
      const headers: Record<string, string> = { ...answer.headers };
      let payload = answer.body ?? '';
      if (answer.json !== undefined) {
        payload = JSON.stringify(answer.json);
        headers['content-type'] ??= 'application/json';
      }
      res.writeHead(answer.status ?? 200, headers).end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A clock that moves only when told to. */
export class TestClock {
  constructor(public current = Date.UTC(2030, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}

/** A promise with its resolver, to hold a response until the test releases it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

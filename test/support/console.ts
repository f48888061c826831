import { request } from 'node:http';

/** A raw HTTP answer (status, lower-case headers, body). */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request with full control of the headers (Host, Origin, Cookie), following no
 * redirects: what the operator console's tests need, which fetch does not give.
 */
export function rawRequest(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { headers?: Record<string, string>; form?: Record<string, string> } = {},
): Promise<RawResponse> {
  const url = new URL(path, baseUrl);
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          ...(body !== undefined
            ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) }
            : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The console session cookie (`name=value`) a login answer sets, or undefined. */
export function sessionCookie(res: RawResponse): string | undefined {
  const set = res.headers['set-cookie'];
  const first = Array.isArray(set) ? set[0] : set;
  return first?.split(';')[0];
}

/** The `_csrf` value of the first form of a page. */
export function csrfOf(page: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!m) throw new Error('no CSRF field on the page');
  return m[1]!;
}

/** Signs in to the console; returns the cookie and a page's CSRF token. */
export async function consoleLogin(baseUrl: string, password: string, path = '/console') {
  const res = await rawRequest(baseUrl, 'POST', `${path}/login`, { form: { password } });
  if (res.status !== 303) throw new Error(`console login answered ${res.status}`);
  const cookie = sessionCookie(res)!;
  const page = await rawRequest(baseUrl, 'GET', `${path}/clients`, { headers: { cookie } });
  return { cookie, csrf: csrfOf(page.body) };
}

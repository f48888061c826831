import { ClavisClientError } from './errors.js';

/**
 * The `fetch` signature the SDK calls; inject one for proxies, tracing or tests.
 * @see RFC 6749 §3.2
 */
export type FetchLike = (
  input: string | URL,
  init?: RequestInit,
) => Promise<Response>;

/** Default request timeout, in seconds. */
export const DEFAULT_TIMEOUT = 10;

/**
 * Sends a protocol request: no redirects (a 3xx is an error, so credentials never follow one),
 * a timeout, and network failures as `network_error`.
 */
export async function send(
  fetchFn: FetchLike,
  url: string,
  init: RequestInit,
  timeout: number,
): Promise<Response> {
  try {
    return await fetchFn(url, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeout * 1000),
    });
  } catch (cause) {
    throw new ClavisClientError(
      'network_error',
      `request to ${url} failed`,
      undefined,
      { cause },
    );
  }
}

/** The body of a success response as a JSON object, or `invalid_response`. */
export async function readJsonObject(
  response: Response,
): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new ClavisClientError(
      'invalid_response',
      'response body is not JSON',
      response.status,
      { cause },
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ClavisClientError(
      'invalid_response',
      'response body is not a JSON object',
      response.status,
    );
  }
  return body as Record<string, unknown>;
}

/**
 * The error an error response stands for: the JSON `error` / `error_description` body
 * (RFC 6749 §5.2, RFC 7591 §3.2.2), else the `WWW-Authenticate: Bearer` error (RFC 6750 §3),
 * else `http_error`.
 */
export async function errorFrom(
  response: Response,
): Promise<ClavisClientError> {
  let body: { error?: unknown; error_description?: unknown } = {};
  try {
    const parsed: unknown = await response.json();
    if (typeof parsed === 'object' && parsed !== null) body = parsed;
  } catch {
    // not JSON: fall back to the challenge or the status
  }
  if (body.error !== undefined) {
    return ClavisClientError.fromServer(
      body.error,
      body.error_description,
      response.status,
    );
  }
  const challenge = bearerChallenge(response.headers.get('www-authenticate'));
  return ClavisClientError.fromServer(
    challenge?.error,
    challenge?.error_description,
    response.status,
  );
}

const NEXT_CHALLENGE = /,\s*[\w!#$%&'*+.^`|~-]+\s+(?=[\w!#$%&'*+.^`|~-]+\s*=)/;
const PARAM = /([\w!#$%&'*+.^`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;

/** The auth-params of the `Bearer` challenge in a `WWW-Authenticate` header, if there is one. RFC 6750 §3. */
export function bearerChallenge(
  header: string | null,
): Record<string, string> | undefined {
  const start = header?.match(/(?:^|,)\s*Bearer(?:\s+|$)/i);
  if (!header || !start) return undefined;
  let rest = header.slice(start.index! + start[0].length);
  const next = rest.match(NEXT_CHALLENGE);
  if (next) rest = rest.slice(0, next.index);
  const params: Record<string, string> = {};
  for (const [, name, quoted, plain] of rest.matchAll(PARAM)) {
    params[name.toLowerCase()] ??=
      quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : plain;
  }
  return params;
}

import { ClavisClientError } from './errors.js';

/**
 * The `fetch` signature the SDK calls; inject one for proxies, tracing or tests.
 * @see RFC 6749 §3.2
 */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Default request timeout, in seconds. */
export const DEFAULT_TIMEOUT = 10;

/** Default cap on a response body the SDK reads (metadata, token, registration, error), in bytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 65_536;

/**
 * Sends a protocol request: no redirects (a 3xx is an error, so credentials never follow one),
 * a timeout (for the headers and the body alike), and network failures as `network_error`.
 */
export async function send(fetchFn: FetchLike, url: string, init: RequestInit, timeout: number): Promise<Response> {
  const signal = AbortSignal.timeout(timeout * 1000);
  try {
    return await fetchFn(url, { ...init, redirect: 'manual', signal });
  } catch (cause) {
    throw new ClavisClientError(
      'network_error',
      `request to ${url} ${signal.aborted ? 'timed out' : 'failed'}`,
      undefined,
      { cause },
    );
  }
}

/** A positive whole number of bytes, for a `maxResponseBytes` option. */
export function byteLimit(value: number | undefined): number {
  const limit = value ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('maxResponseBytes must be a positive whole number');
  return limit;
}

/**
 * The body as UTF-8 text, reading at most `limit` bytes: a larger `Content-Length` is refused before
 * reading, a longer stream is cancelled as soon as it passes the limit (`response_too_large`).
 * A read that fails (the timeout fires mid-body) is a `network_error` saying so.
 */
export async function readText(response: Response, limit: number): Promise<string> {
  const where = response.url || 'the server';
  const tooLarge = () =>
    new ClavisClientError(
      'response_too_large',
      `response from ${where} is larger than ${limit} bytes`,
      response.status,
    );
  if (Number(response.headers.get('content-length')) > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof ClavisClientError) throw cause;
    const timedOut =
      cause instanceof Error &&
      (cause.name === 'TimeoutError' || (cause.cause as Error | undefined)?.name === 'TimeoutError');
    throw new ClavisClientError(
      'network_error',
      `reading the response from ${where} ${timedOut ? 'timed out' : 'failed'}`,
      response.status,
      { cause },
    );
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** The body of a success response as a JSON object (at most `limit` bytes), or `invalid_response`. */
export async function readJsonObject(
  response: Response,
  limit = DEFAULT_MAX_RESPONSE_BYTES,
): Promise<Record<string, unknown>> {
  const text = await readText(response, limit);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new ClavisClientError('invalid_response', 'response body is not JSON', response.status, { cause });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ClavisClientError('invalid_response', 'response body is not a JSON object', response.status);
  }
  return body as Record<string, unknown>;
}

/**
 * The error an error response stands for: the JSON `error` / `error_description` body
 * (RFC 6749 §5.2, RFC 7591 §3.2.2), else the `WWW-Authenticate: Bearer` error (RFC 6750 §3),
 * else `http_error`. A body over `limit` bytes is not read (`response_too_large`).
 */
export async function errorFrom(response: Response, limit = DEFAULT_MAX_RESPONSE_BYTES): Promise<ClavisClientError> {
  let body: { error?: unknown; error_description?: unknown } = {};
  const text = await readText(response, limit).catch((e: unknown) => {
    if (e instanceof ClavisClientError && e.code === 'response_too_large') throw e;
    return '';
  });
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed;
  } catch {
    // not JSON: fall back to the challenge or the status
  }
  if (body.error !== undefined) {
    return ClavisClientError.fromServer(body.error, body.error_description, response.status);
  }
  const challenge = bearerChallenge(response.headers.get('www-authenticate'));
  return ClavisClientError.fromServer(challenge?.error, challenge?.error_description, response.status);
}

/**
 * One challenge of a `WWW-Authenticate` header: its scheme, and its auth-params (names lower-cased,
 * the first of a repeated name wins) or token68.
 * @see RFC 9110 §11.6.1
 */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

/** The part of a string the parser reads, so that a test can count the reads. */
type Text = Pick<string, 'length' | 'charCodeAt' | 'slice'>;

// RFC 9110 §5.6.2 tchar, and the token68 characters of §11.2.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;
const TOKEN68 = new Uint8Array(128);
for (const c of '-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') TOKEN68[c.charCodeAt(0)] = 1;
const [SP, TAB, COMMA, EQUALS, DQUOTE, BACKSLASH] = [32, 9, 44, 61, 34, 92];

/**
 * Parses a `WWW-Authenticate` header into its challenges in one pass: each character is read a
 * bounded number of times, so the cost is linear in the header's length whatever it holds.
 * Malformed parts are skipped, never fatal.
 * @see RFC 9110 §11.6.1
 */
export function parseChallenges(header: string): AuthChallenge[] {
  const text: Text = header;
  const n = text.length;
  const challenges: AuthChallenge[] = [];
  let current: { challenge: AuthChallenge; params: Map<string, string> } | undefined;
  let i = 0;
  const at = (k: number) => (k < n ? text.charCodeAt(k) : -1);
  const skipWhitespace = () => {
    while (at(i) === SP || at(i) === TAB) i++;
  };
  const readToken = () => {
    const start = i;
    for (let c = at(i); c >= 0 && c < 128 && TCHAR[c]; c = at(++i));
    return text.slice(start, i);
  };
  const readQuoted = () => {
    const parts: string[] = [];
    let start = ++i; // after the opening quote
    for (let c = at(i); c >= 0; c = at(i)) {
      if (c === DQUOTE) {
        parts.push(text.slice(start, i++));
        return parts.join('');
      }
      if (c === BACKSLASH && i + 1 < n) {
        parts.push(text.slice(start, i), text.slice(i + 1, i + 2));
        i += 2;
        start = i;
      } else i++;
    }
    parts.push(text.slice(start, n)); // unterminated: the rest
    return parts.join('');
  };
  const finish = () => {
    if (current) current.challenge.params = Object.fromEntries(current.params);
  };

  while (i < n) {
    skipWhitespace();
    if (i >= n) break;
    if (at(i) === COMMA) {
      i++;
      continue;
    }
    const name = readToken();
    if (name === '') {
      i++; // a character no grammar rule starts with: skip it
      continue;
    }
    const afterName = i;
    skipWhitespace();
    if (current && at(i) === EQUALS) {
      i++;
      skipWhitespace();
      const value = at(i) === DQUOTE ? readQuoted() : readToken();
      const key = name.toLowerCase();
      if (!current.params.has(key)) current.params.set(key, value);
      continue;
    }
    // Not a parameter: `name` starts a new challenge.
    finish();
    current = { challenge: { scheme: name, params: {} }, params: new Map() };
    challenges.push(current.challenge);
    i = afterName;
    skipWhitespace();
    const start = i;
    for (let c = at(i); c >= 0 && c < 128 && TOKEN68[c]; c = at(++i));
    while (at(i) === EQUALS) i++;
    const end = i;
    skipWhitespace();
    if (end > start && (i >= n || at(i) === COMMA)) {
      current.challenge.token68 = text.slice(start, end);
      continue;
    }
    i = start; // auth-params follow (or nothing): read them as such
  }
  finish();
  return challenges;
}

/** The auth-params of the `Bearer` challenge in a `WWW-Authenticate` header, if there is one. RFC 6750 §3. */
export function bearerChallenge(header: string | null): Record<string, string> | undefined {
  if (!header) return undefined;
  return parseChallenges(header).find((c) => c.scheme.toLowerCase() === 'bearer')?.params;
}

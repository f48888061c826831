import { ClavisClientError } from './errors.js';

/**
 * Where the SDK may send credentials: `https`, or `http` to localhost (`localhost`, `127.0.0.1`,
 * `[::1]`) — the rule of `@clavis/resource` too — or any `http` URL with `allowInsecureHttp`, an
 * opt-in for tests. Never another scheme. See ADR 0014.
 */
export interface UrlRule {
  /** Accept plain `http` to any host. Default false. */
  allowInsecureHttp?: boolean;
  /** When set, the URL's origin must be one of these. */
  origins?: readonly string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * `value` as a URL the SDK may send to, or a `ClavisClientError` `invalid_url` naming it and `what` it is.
 * @see RFC 6749 §3.1, §3.2 (TLS for endpoints), RFC 8414 §2
 */
export function checkUrl(value: unknown, what: string, rule: UrlRule = {}): URL {
  const shown =
    typeof value === 'string' ? JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value) : String(value);
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) throw new ClavisClientError('invalid_url', `${what} ${shown} is not a URL`);
  const secure =
    url.protocol === 'https:' ||
    (url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || rule.allowInsecureHttp === true));
  if (!secure) {
    throw new ClavisClientError(
      'invalid_url',
      `${what} ${shown} must be https (http only for localhost, or with allowInsecureHttp)`,
    );
  }
  if (rule.origins && !rule.origins.includes(url.origin)) {
    throw new ClavisClientError(
      'invalid_url',
      `${what} ${shown} is not on the issuer's origin (configure it explicitly to use another)`,
    );
  }
  return url;
}

import { BearerTokenError } from './bearer-token.error.js';

/** The parts of an Express or Fastify request that carry a bearer token. */
export interface BearerTokenRequest {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
  /** Fastify keeps Node's request here. */
  raw?: { rawHeaders?: string[] };
  url?: string;
  originalUrl?: string;
  body?: unknown;
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 9110 §11.1).
const BEARER_CREDENTIALS = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Reads the token of `Authorization: Bearer <token>`. Returns `undefined` when the request carries no
 * bearer credentials (no header, or another scheme such as Basic: RFC 6750 §3.1 "lacks any authentication
 * information"); throws 400 `invalid_request` when the header is malformed or repeated, or when an
 * `access_token` is also (or only) in the query or the body — this server accepts the header method only.
 * @see RFC 6750 §2.1
 */
export function readBearerToken(request: BearerTokenRequest): string | undefined {
  if (hasAccessTokenParameter(request))
    throw BearerTokenError.invalidRequest('misplaced', 'access_token in the query or body');

  const header = request.headers.authorization;
  if (header === undefined || header === '') return undefined;
  if (typeof header !== 'string' || countAuthorizationHeaders(request) > 1)
    throw BearerTokenError.invalidRequest('malformed', 'more than one Authorization header');

  const scheme = header.trimStart().split(/[ \t]/, 1)[0];
  if (scheme.toLowerCase() !== 'bearer') return undefined;
  const match = BEARER_CREDENTIALS.exec(header.trim());
  if (!match)
    throw BearerTokenError.invalidRequest('malformed', 'Authorization: Bearer not followed by exactly one b64token');
  return match[1];
}

function hasAccessTokenParameter(request: BearerTokenRequest): boolean {
  const url = request.originalUrl ?? request.url ?? '';
  const query = url.indexOf('?');
  if (query !== -1 && new URLSearchParams(url.slice(query + 1)).has('access_token')) return true;
  const body = request.body;
  return typeof body === 'object' && body !== null && Object.hasOwn(body, 'access_token');
}

// Node keeps only the first of repeated Authorization headers in `headers`; `rawHeaders` has them all.
function countAuthorizationHeaders(request: BearerTokenRequest): number {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders;
  if (!Array.isArray(raw)) return 1;
  let count = 0;
  // The length first: most header names are not 13 characters long, and are not lower-cased.
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') count++;
  return count;
}

import { ClavisClientError } from './errors.js';
import { byteLimit, DEFAULT_TIMEOUT, errorFrom, readJsonObject, send, type FetchLike } from './http.js';
import { checkUrl } from './url-policy.js';

/**
 * Authorization server metadata, as far as the SDK reads it.
 * @see RFC 8414 §2
 */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint?: string;
  registration_endpoint?: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  revocation_endpoint?: string;
  grant_types_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
  scopes_supported?: string[];
  [parameter: string]: unknown;
}

/**
 * Options of {@link discoverAuthorizationServer}.
 * @see RFC 8414 §3
 */
export interface DiscoveryOptions {
  /** `fetch` implementation. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Request timeout, in seconds. Default 10. */
  timeout?: number;
  /** Accept a plain `http` issuer on any host (for tests); else `https`, `http` only for localhost. Default false. */
  allowInsecureHttp?: boolean;
  /** Largest metadata document read, in bytes. Default 65536. */
  maxResponseBytes?: number;
}

/** RFC 8414 §3's well-known URI suffix. */
const WELL_KNOWN = '/.well-known/oauth-authorization-server';

/**
 * Where the metadata of `issuer` may be: for an issuer with a path, the RFC 8414 §3.1 location
 * first (`https://host/.well-known/oauth-authorization-server/oauth` for `https://host/oauth`),
 * then the path-appended one many servers use (`https://host/oauth/.well-known/…`); for an issuer
 * without a path, the one location both rules give.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '') return [`${url.origin}${WELL_KNOWN}`];
  return [`${url.origin}${WELL_KNOWN}${path}`, `${url.origin}${path}${WELL_KNOWN}`];
}

/**
 * Fetches the authorization server metadata of `issuer` and checks that the document names
 * exactly `issuer`. The issuer must be `https` (`http` only for localhost, or with `allowInsecureHttp`).
 * For an issuer with a path, tries the RFC 8414 §3.1 location first and the path-appended location
 * when that one answers 404. Errors name the URL they concern. Endpoint URLs in the document are
 * returned as found: callers check them (see `TokenClient`).
 * @throws ClavisClientError `invalid_url`, `network_error`, `http_error`, `response_too_large` or `invalid_response`.
 * @see RFC 8414 §3, §3.1
 */
export async function discoverAuthorizationServer(
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  checkUrl(issuer, 'issuer', options);
  const limit = byteLimit(options.maxResponseBytes);
  const urls = metadataUrls(issuer);
  let response: Response | undefined;
  let url = urls[0]!;
  for (url of urls) {
    response = await send(
      options.fetch ?? fetch,
      url,
      { headers: { accept: 'application/json' } },
      options.timeout ?? DEFAULT_TIMEOUT,
    );
    if (response.status !== 404 || url === urls[urls.length - 1]) break;
    await response.body?.cancel().catch(() => {});
  }
  if (!response!.ok) {
    const error = await errorFrom(response!, limit);
    const tried =
      response!.status === 404 && urls.length > 1
        ? `${urls.join(' and ')} answered 404`
        : `${url} answered ${response!.status}`;
    throw new ClavisClientError(
      error.code,
      `no authorization server metadata: ${tried}${error.description && error.code !== 'http_error' ? ` (${error.description})` : ''}`,
      response!.status,
    );
  }
  const metadata = await readJsonObject(response!, limit).catch((e: ClavisClientError) => {
    throw e.description.includes(url)
      ? e
      : new ClavisClientError(e.code, `${e.description} (${url})`, e.status, { cause: e });
  });
  // RFC 8414 §3.3: the issuer in the document must be identical to the one the client expects.
  if (metadata.issuer !== issuer) {
    throw new ClavisClientError(
      'invalid_response',
      `metadata issuer ${JSON.stringify(metadata.issuer)} does not match ${issuer} (${url})`,
      response!.status,
    );
  }
  for (const name of ['token_endpoint', 'registration_endpoint'] as const) {
    if (metadata[name] !== undefined && typeof metadata[name] !== 'string') {
      throw new ClavisClientError('invalid_response', `metadata ${name} is not a string (${url})`, response!.status);
    }
  }
  return metadata as AuthorizationServerMetadata;
}

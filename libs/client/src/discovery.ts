import { ClavisClientError } from './errors.js';
import {
  byteLimit,
  DEFAULT_TIMEOUT,
  errorFrom,
  readJsonObject,
  send,
  type FetchLike,
} from './http.js';
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

/**
 * Fetches `${issuer}/.well-known/oauth-authorization-server` and checks that the document names
 * exactly `issuer`. The issuer must be `https` (`http` only for localhost, or with `allowInsecureHttp`).
 * Endpoint URLs in the document are returned as found: callers check them (see `TokenClient`).
 * @throws ClavisClientError `invalid_url`, `network_error`, `http_error`, `response_too_large` or `invalid_response`.
 * @see RFC 8414 §3
 */
export async function discoverAuthorizationServer(
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  checkUrl(issuer, 'issuer', options);
  const limit = byteLimit(options.maxResponseBytes);
  const url = `${issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server`;
  const response = await send(
    options.fetch ?? fetch,
    url,
    { headers: { accept: 'application/json' } },
    options.timeout ?? DEFAULT_TIMEOUT,
  );
  if (!response.ok) throw await errorFrom(response, limit);
  const metadata = await readJsonObject(response, limit);
  // RFC 8414 §3.3: the issuer in the document must be identical to the one the client expects.
  if (metadata.issuer !== issuer) {
    throw new ClavisClientError(
      'invalid_response',
      `metadata issuer ${JSON.stringify(metadata.issuer)} does not match ${issuer}`,
      response.status,
    );
  }
  for (const name of ['token_endpoint', 'registration_endpoint'] as const) {
    if (metadata[name] !== undefined && typeof metadata[name] !== 'string') {
      throw new ClavisClientError(
        'invalid_response',
        `metadata ${name} is not a string`,
        response.status,
      );
    }
  }
  return metadata as AuthorizationServerMetadata;
}

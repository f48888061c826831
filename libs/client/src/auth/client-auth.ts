/**
 * The token-endpoint client authentication methods the SDK implements.
 * @see RFC 7591 §2, RFC 7523 §2.2
 */
export type TokenEndpointAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'federated_jwt';

/**
 * What a strategy knows about the request it authenticates.
 * @see RFC 7523 §3
 */
export interface ClientAuthContext {
  /** Issuer identifier of the authorization server: the `aud` of assertions. */
  issuer: string;
  /** Current time, in milliseconds since the epoch. */
  now: number;
}

/**
 * What a strategy adds to a token-endpoint request.
 * @see RFC 6749 §2.3
 */
export interface ClientAuthParams {
  /** Extra request headers (`Authorization` for Basic). */
  headers: Record<string, string>;
  /** Extra form parameters. */
  body: Record<string, string>;
}

/**
 * A client authentication strategy: one per method, made by `clientSecretBasic()` and friends.
 * @see RFC 6749 §2.3
 */
export interface ClientAuth {
  readonly method: TokenEndpointAuthMethod;
  readonly clientId: string;
  /** Headers and form parameters for one request; assertion strategies sign a fresh assertion per call. */
  authenticate(context: ClientAuthContext): Promise<ClientAuthParams>;
}

/** `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 §2.3.1 and Appendix B require. */
export function formUrlEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*~]|%20/g, (c) =>
    c === '%20' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function assertNonEmpty(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
}

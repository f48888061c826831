import { readFile } from 'node:fs/promises';
import { JWT_BEARER_ASSERTION_TYPE } from './assertion.js';
import { assertNonEmpty, type ClientAuth } from './client-auth.js';
import { ClavisClientError } from '../errors.js';

/**
 * `client_assertion_type` of a SPIFFE JWT-SVID presented as client assertion.
 * @see draft-ietf-oauth-spiffe-client-auth
 */
export const JWT_SPIFFE_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';

/**
 * Options of {@link federatedJwt}: the client, and where its platform token comes from — a file the
 * platform keeps fresh (Kubernetes projected service-account token, SPIFFE helper output), or a
 * function (GitHub Actions' OIDC token request, the SPIFFE Workload API).
 */
export type FederatedJwtOptions = {
  clientId: string;
  /**
   * `jwt-bearer` (default): the token as a jwt-bearer client assertion with `client_id` (Kubernetes,
   * GitHub Actions, any OIDC issuer). `jwt-spiffe`: a JWT-SVID (draft-ietf-oauth-spiffe-client-auth).
   */
  assertionType?: 'jwt-bearer' | 'jwt-spiffe';
} & ({ tokenFile: string; token?: never } | { token: () => string | Promise<string>; tokenFile?: never });

/**
 * `federated_jwt`: the client authenticates with a token its platform issued it, no secret and no
 * key of its own. The token is read afresh for every token request — from `tokenFile`, as the
 * cloud SDKs read a projected token (the platform rotates the file), or from `token()`.
 *
 * ```ts
 * const auth = federatedJwt({ clientId, tokenFile: '/var/run/secrets/clavis/token' });
 * const tokens = new TokenClient({ issuer, clientId, auth, scope: 'statements:read' });
 * ```
 */
export function federatedJwt(options: FederatedJwtOptions): ClientAuth {
  assertNonEmpty(options?.clientId, 'clientId');
  const { clientId, tokenFile, token } = options;
  const type = options.assertionType ?? 'jwt-bearer';
  if (type !== 'jwt-bearer' && type !== 'jwt-spiffe')
    throw new TypeError('assertionType must be jwt-bearer or jwt-spiffe');
  if ((tokenFile === undefined) === (token === undefined))
    throw new TypeError('give exactly one of tokenFile and token');
  if (tokenFile !== undefined) assertNonEmpty(tokenFile, 'tokenFile');
  else if (typeof token !== 'function') throw new TypeError('token must be a function returning the platform token');
  const read = async (): Promise<string> => {
    let value: unknown;
    try {
      value = tokenFile !== undefined ? await readFile(tokenFile, 'utf8') : await token!();
    } catch (e) {
      throw new ClavisClientError(
        'credential_unavailable',
        tokenFile !== undefined
          ? `the platform token file cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`
          : 'the platform token function failed',
        undefined,
        { cause: e },
      );
    }
    const jwt = typeof value === 'string' ? value.trim() : '';
    if (jwt === '') throw new ClavisClientError('credential_unavailable', 'the platform token is empty');
    return jwt;
  };
  return {
    method: 'federated_jwt',
    clientId,
    authenticate: async () => ({
      headers: {},
      body: {
        client_id: clientId,
        client_assertion_type: type === 'jwt-spiffe' ? JWT_SPIFFE_ASSERTION_TYPE : JWT_BEARER_ASSERTION_TYPE,
        client_assertion: await read(),
      },
    }),
  };
}

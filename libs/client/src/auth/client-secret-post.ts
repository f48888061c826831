import { assertNonEmpty, type ClientAuth } from './client-auth.js';

/**
 * The client secret as `client_id` and `client_secret` form parameters.
 * @see RFC 6749 §2.3.1
 */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuth {
  assertNonEmpty(clientId, 'clientId');
  assertNonEmpty(clientSecret, 'clientSecret');
  return {
    method: 'client_secret_post',
    clientId,
    authenticate: async () => ({
      headers: {},
      body: { client_id: clientId, client_secret: clientSecret },
    }),
  };
}

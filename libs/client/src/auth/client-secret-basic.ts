import { assertNonEmpty, formUrlEncode, type ClientAuth } from './client-auth.js';

/**
 * HTTP Basic authentication with the client secret. The id and secret are form-urlencoded before
 * base64 encoding, so `:` and non-ASCII characters survive.
 * @see RFC 6749 §2.3.1
 */
export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuth {
  assertNonEmpty(clientId, 'clientId');
  assertNonEmpty(clientSecret, 'clientSecret');
  const authorization = `Basic ${btoa(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`)}`; // ASCII after encoding
  return {
    method: 'client_secret_basic',
    clientId,
    authenticate: async () => ({ headers: { authorization }, body: {} }),
  };
}

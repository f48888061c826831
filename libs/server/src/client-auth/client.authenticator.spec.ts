import { describe, expect, it } from 'vitest';
import type { FormParams } from '../shared/form-body.js';
import { OAuthError } from '../errors/oauth-error.js';
import { JWT_BEARER_ASSERTION, readCredentials } from './client.authenticator.js';

const form = (o: Record<string, string>): FormParams => ({
  get: (n) => o[n],
  getAll: (n) => (o[n] ? [o[n]] : []),
  has: (n) => n in o,
});
const b64 = (s: string) => Buffer.from(s).toString('base64');
const fail = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return `${(e as OAuthError).status} ${(e as OAuthError).code}`;
  }
  return 'ok';
};
const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('readCredentials (RFC 6749 §2.3)', () => {
  it('Basic, with form-urlencoded id and secret', () => {
    expect(readCredentials({ authorization: `Basic ${b64('my%20client:s%2Bcr%3At')}` }, form({}))).toEqual({
      method: 'client_secret_basic',
      clientId: 'my client',
      secret: 's+cr:t',
    });
    expect(readCredentials({ authorization: `basic ${b64('a:b')}` }, form({}))).toMatchObject({
      clientId: 'a',
      secret: 'b',
    });
  });
  it('post', () =>
    expect(readCredentials({}, form({ client_id: 'a', client_secret: 'b' }))).toEqual({
      method: 'client_secret_post',
      clientId: 'a',
      secret: 'b',
    }));
  it('assertion: the client is its sub', () => {
    expect(
      readCredentials(
        {},
        form({ client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: jwt({ iss: 'c1', sub: 'c1' }) }),
      ),
    ).toMatchObject({ method: 'jwt', clientId: 'c1' });
  });
  it('more than one method → 400 invalid_request', () => {
    expect(
      fail(() =>
        readCredentials({ authorization: `Basic ${b64('a:b')}` }, form({ client_secret: 'b', client_id: 'a' })),
      ),
    ).toBe('400 invalid_request');
    expect(
      fail(() =>
        readCredentials(
          {},
          form({
            client_id: 'a',
            client_secret: 'b',
            client_assertion_type: JWT_BEARER_ASSERTION,
            client_assertion: 'x.y.z',
          }),
        ),
      ),
    ).toBe('400 invalid_request');
  });
  it('none, or malformed → 401 invalid_client', () => {
    expect(fail(() => readCredentials({}, form({})))).toBe('401 invalid_client');
    expect(fail(() => readCredentials({ authorization: 'Basic !!!' }, form({})))).toBe('401 invalid_client');
    expect(fail(() => readCredentials({ authorization: `Basic ${b64('no-colon')}` }, form({})))).toBe(
      '401 invalid_client',
    );
    expect(fail(() => readCredentials({ authorization: `Basic ${b64('a:%zz')}` }, form({})))).toBe(
      '401 invalid_client',
    );
    expect(fail(() => readCredentials({}, form({ client_secret: 'b' })))).toBe('401 invalid_client');
    expect(
      fail(() =>
        readCredentials({}, form({ client_assertion_type: 'urn:other', client_assertion: jwt({ sub: 'c' }) })),
      ),
    ).toBe('401 invalid_client');
    expect(
      fail(() =>
        readCredentials({}, form({ client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: 'garbage' })),
      ),
    ).toBe('401 invalid_client');
  });
  it('client_id that contradicts the assertion: read as a platform token (federated_jwt), which only a federated client may present', () => {
    // The authenticator refuses it as client_id_mismatch for any other client (test/e2e/federated-jwt.e2e-spec.ts).
    const assertion = jwt({ sub: 'c1' });
    expect(
      readCredentials(
        {},
        form({ client_id: 'c2', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion }),
      ),
    ).toEqual({ method: 'federated_jwt', clientId: 'c2', assertion, assertionType: 'jwt-bearer' });
  });
});

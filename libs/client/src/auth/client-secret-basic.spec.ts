import { clientSecretBasic } from './client-secret-basic.js';

const context = { issuer: 'https://as.example', now: Date.UTC(2030, 0, 1) };

function decodeBasic(header: string): [string, string] {
  const [scheme, value] = header.split(' ');
  expect(scheme).toBe('Basic');
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return [decoded.slice(0, i), decoded.slice(i + 1)];
}

describe('clientSecretBasic', () => {
  it('form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)', async () => {
    const { headers, body } = await clientSecretBasic('client:1', "p@ss w/ü:+%!'()*~").authenticate(context);
    expect(body).toEqual({});
    expect(Object.keys(headers)).toEqual(['authorization']);
    const [id, secret] = decodeBasic(headers.authorization);
    expect(id).toBe('client%3A1');
    expect(secret).toBe('p%40ss+w%2F%C3%BC%3A%2B%25%21%27%28%29%2A%7E');
  });

  it('round-trips through form decoding, as servers read it', async () => {
    const original = ['svc.α-1_x', 'Zm9v+/=:&?#[]@ "\\'];
    const { headers } = await clientSecretBasic(original[0], original[1]).authenticate(context);
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, '%20'));
    expect(decodeBasic(headers.authorization).map(decode)).toEqual(original);
  });

  it('leaves plain ASCII ids and secrets unchanged', async () => {
    const { headers } = await clientSecretBasic('abc', 'def').authenticate(context);
    expect(headers.authorization).toBe(`Basic ${Buffer.from('abc:def').toString('base64')}`);
  });

  it('names its method and client', () => {
    expect(clientSecretBasic('abc', 'def')).toMatchObject({
      method: 'client_secret_basic',
      clientId: 'abc',
    });
  });

  it('rejects an empty id or secret', () => {
    expect(() => clientSecretBasic('', 'x')).toThrow(TypeError);
    expect(() => clientSecretBasic('x', '')).toThrow(TypeError);
  });
});

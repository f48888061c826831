import { clientSecretPost } from './client-secret-post.js';

describe('clientSecretPost', () => {
  it('sends client_id and client_secret as form parameters and no header', async () => {
    const auth = clientSecretPost('client:1', 's3cr3t');
    expect(auth).toMatchObject({
      method: 'client_secret_post',
      clientId: 'client:1',
    });
    expect(await auth.authenticate({ issuer: 'https://as.example', now: 0 })).toEqual({
      headers: {},
      body: { client_id: 'client:1', client_secret: 's3cr3t' },
    });
  });

  it('rejects an empty secret', () => {
    expect(() => clientSecretPost('a', '')).toThrow(TypeError);
  });
});

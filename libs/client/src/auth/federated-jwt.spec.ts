import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClavisClientError } from '../errors.js';
import { JWT_BEARER_ASSERTION_TYPE } from './assertion.js';
import { federatedJwt, JWT_SPIFFE_ASSERTION_TYPE } from './federated-jwt.js';

const context = { issuer: 'https://as.example', now: Date.UTC(2030, 0, 1) };

describe('federatedJwt', () => {
  it('reads the token file afresh for every request (the platform rotates it), trimmed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'clavis-fed-')), 'token');
    writeFileSync(file, 'eyJ.first.sig\n');
    const auth = federatedJwt({ clientId: 'svc', tokenFile: file });
    expect(auth).toMatchObject({ method: 'federated_jwt', clientId: 'svc' });
    expect(await auth.authenticate(context)).toEqual({
      headers: {},
      body: { client_id: 'svc', client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: 'eyJ.first.sig' },
    });
    writeFileSync(file, 'eyJ.second.sig');
    expect((await auth.authenticate(context)).body.client_assertion).toBe('eyJ.second.sig');
  });

  it('calls the token function for every request; jwt-spiffe sets the SPIFFE assertion type', async () => {
    let n = 0;
    const auth = federatedJwt({ clientId: 'svc', token: async () => `svid-${++n}`, assertionType: 'jwt-spiffe' });
    expect((await auth.authenticate(context)).body).toEqual({
      client_id: 'svc',
      client_assertion_type: JWT_SPIFFE_ASSERTION_TYPE,
      client_assertion: 'svid-1',
    });
    expect((await auth.authenticate(context)).body.client_assertion).toBe('svid-2');
  });

  it('a missing file, an empty token or a failing function is credential_unavailable; nothing is sent', async () => {
    const missing = federatedJwt({ clientId: 'svc', tokenFile: join(tmpdir(), 'no-such-dir-clavis', 'token') });
    await expect(missing.authenticate(context)).rejects.toMatchObject({ code: 'credential_unavailable' });
    const empty = federatedJwt({ clientId: 'svc', token: () => '  \n' });
    await expect(empty.authenticate(context)).rejects.toBeInstanceOf(ClavisClientError);
    const failing = federatedJwt({
      clientId: 'svc',
      token: () => {
        throw new Error('metadata server down');
      },
    });
    await expect(failing.authenticate(context)).rejects.toMatchObject({ code: 'credential_unavailable' });
  });

  it('refuses wrong options at construction', () => {
    expect(() => federatedJwt({ clientId: '', tokenFile: '/t' })).toThrow(TypeError);
    expect(() => federatedJwt({ clientId: 'svc' } as never)).toThrow(/exactly one of tokenFile and token/);
    expect(() => federatedJwt({ clientId: 'svc', tokenFile: '/t', token: () => 'x' } as never)).toThrow(TypeError);
    expect(() => federatedJwt({ clientId: 'svc', tokenFile: '/t', assertionType: 'saml' as never })).toThrow(TypeError);
  });
});

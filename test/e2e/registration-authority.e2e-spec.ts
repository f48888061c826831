import { request as httpRequest, type ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClientStore } from '@clavis/server/testing';
import { expectOAuthError } from '../support/http.js';
import {
  expectRegistrationError,
  registrationApi,
  tokenWithBasic,
  type JsonResponse,
} from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * RFC 7592 management requests are authorised at the moment of the write: a PUT or DELETE whose
 * registration access token was valid when the request began, but was rotated before the request
 * body had arrived (or before the write), changes nothing and gets 401 (ADR 0010).
 */
describe('RFC 7592: authorisation holds at the moment of the write', () => {
  let t: TestApp;
  let api: ReturnType<typeof registrationApi>;

  beforeAll(async () => {
    t = await createTestApp();
    api = registrationApi(t);
  });
  afterAll(() => t.close());

  const metadata = { client_name: 'owner', scope: 'statements:read' };

  /**
   * Starts a request whose JSON body is sent in two parts over a real connection: the headers and
   * the first part now, the rest when `finish()` is called. `checked` resolves once the server has
   * looked the client up for this request (its early token check ran, the body is still open).
   */
  function slowRequest(method: 'PUT', uri: string, token: string, body: string, clientId: string) {
    let seen!: () => void;
    const checked = new Promise<void>((resolve) => (seen = resolve));
    const find = t.clients.find.bind(t.clients);
    const spy = vi.spyOn(t.clients, 'find').mockImplementation(async (id: string) => {
      const found = await find(id);
      if (id === clientId) seen();
      return found;
    });
    const split = Math.floor(body.length / 2);
    const url = new URL(uri);
    let req!: ClientRequest;
    const response = new Promise<JsonResponse>((resolve, reject) => {
      req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            let json: any;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
            resolve({ status: res.statusCode!, headers, json, text });
          });
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      req.write(body.slice(0, split));
    });
    return {
      checked: checked.finally(() => spy.mockRestore()),
      response,
      finish: () => req.end(body.slice(split)),
    };
  }

  it('a PUT whose body arrives after the operator rotated the registration token → 401; nothing changes', async () => {
    const reg = await api.registerOk(metadata);
    const mark = t.audit.events.length;
    const body = JSON.stringify({
      client_id: reg.client_id,
      client_name: 'attacker',
      scope: 'statements:read statements:write',
    });
    const slow = slowRequest('PUT', reg.registration_client_uri, reg.registration_access_token, body, reg.client_id);
    await slow.checked;
    const rotated = await t.clients.rotateRegistrationToken(reg.client_id);
    slow.finish();
    const res = await slow.response;
    expectRegistrationError(res, 401, 'invalid_token');
    // Nothing changed: metadata, secret and the operator's new token are as they were.
    const read = await api.read(reg.registration_client_uri, rotated);
    expect(read.status).toBe(200);
    expect(read.json.client_name).toBe('owner');
    expect(read.json.scope).toBe('statements:read');
    expect((await tokenWithBasic(t, reg.client_id, reg.client_secret)).status).toBe(200);
    expect(t.audit.events.slice(mark).map((e) => e.type)).not.toContain('client.updated');
    expect(t.audit.events.slice(mark)).toContainEqual(
      expect.objectContaining({ type: 'registration.denied', clientId: reg.client_id }),
    );
  });

  it('a PUT whose body arrives after the owner rotated by its own PUT → 401; the owner keeps its new credentials', async () => {
    const reg = await api.registerOk(metadata);
    const body = JSON.stringify({ client_id: reg.client_id, client_name: 'attacker', scope: 'statements:read' });
    const slow = slowRequest('PUT', reg.registration_client_uri, reg.registration_access_token, body, reg.client_id);
    await slow.checked;
    const owner = await api.update(
      reg.registration_client_uri,
      { ...metadata, client_id: reg.client_id },
      reg.registration_access_token,
    );
    expect(owner.status, owner.text).toBe(200);
    slow.finish();
    expectRegistrationError(await slow.response, 401, 'invalid_token');
    const read = await api.read(reg.registration_client_uri, owner.json.registration_access_token);
    expect(read.status).toBe(200);
    expect(read.json.client_name).toBe('owner');
    expect((await tokenWithBasic(t, reg.client_id, owner.json.client_secret)).status).toBe(200);
  });

  it("a DELETE whose token is rotated between the server's token check and its write → 401; the client lives on", async () => {
    const reg = await api.registerOk(metadata);
    // A DELETE has no body to wait for: the window is between reading the client and deleting it.
    // The operator's rotation is run exactly there, by running it when the server has read the client.
    let rotated: string | undefined;
    const find = t.clients.find.bind(t.clients);
    const spy = vi.spyOn(t.clients, 'find').mockImplementation(async (id: string) => {
      const found = await find(id);
      if (id === reg.client_id && rotated === undefined)
        rotated = await t.clients.rotateRegistrationToken(reg.client_id);
      return found;
    });
    let res: JsonResponse;
    try {
      res = await api.remove(reg.registration_client_uri, reg.registration_access_token);
    } finally {
      spy.mockRestore();
    }
    expect(rotated).toBeDefined();
    expectRegistrationError(res, 401, 'invalid_token');
    expect(await t.clients.find(reg.client_id)).not.toBeNull();
    expect((await api.read(reg.registration_client_uri, rotated)).status).toBe(200);
    expect((await tokenWithBasic(t, reg.client_id, reg.client_secret)).status).toBe(200);
  });

  it('the token is rotated after the server read the client for the write, before it wrote → 401 from the conditional write; nothing changes', async () => {
    const reg = await api.registerOk(metadata);
    // The write's own read (after the body) sees the token still valid; the rotation lands right
    // after it, so only the condition of the UPDATE itself (version and token digest) can refuse it.
    const store = t.app.get(ClientStore);
    const read = store.findWithSecrets.bind(store);
    let reads = 0;
    let rotated: string | undefined;
    const spy = vi.spyOn(store, 'findWithSecrets').mockImplementation(async (id: string) => {
      const found = await read(id);
      if (id === reg.client_id && rotated === undefined && ++reads === 1) {
        spy.mockRestore(); // the rotation's own read goes to the store itself
        rotated = await t.clients.rotateRegistrationToken(reg.client_id);
      }
      return found;
    });
    const mark = t.audit.events.length;
    let res: JsonResponse;
    try {
      res = await api.update(
        reg.registration_client_uri,
        { ...metadata, client_id: reg.client_id, client_name: 'late' },
        reg.registration_access_token,
      );
    } finally {
      spy.mockRestore();
    }
    expect(rotated).toBeDefined();
    expectRegistrationError(res, 401, 'invalid_token');
    const after = await api.read(reg.registration_client_uri, rotated);
    expect(after.json.client_name).toBe('owner');
    expect((await tokenWithBasic(t, reg.client_id, reg.client_secret)).status).toBe(200);
    const types = t.audit.events.slice(mark).map((e) => e.type);
    expect(types).toContain('registration.denied');
    expect(types).not.toContain('client.updated');
  });

  it('the operator deletes the client while a PUT is in flight → 401, the client stays deleted', async () => {
    const reg = await api.registerOk(metadata);
    const body = JSON.stringify({ client_id: reg.client_id, client_name: 'late' });
    const slow = slowRequest('PUT', reg.registration_client_uri, reg.registration_access_token, body, reg.client_id);
    await slow.checked;
    expect(await t.clients.delete(reg.client_id)).toBe(true);
    slow.finish();
    expectRegistrationError(await slow.response, 401, 'invalid_token');
    expect(await t.clients.find(reg.client_id)).toBeNull();
    expectOAuthError(await tokenWithBasic(t, reg.client_id, reg.client_secret), 401, 'invalid_client');
  });

  it('a PUT whose presented client_secret was retired while its body was in flight → 400; nothing changes', async () => {
    const reg = await api.registerOk(metadata);
    const body = JSON.stringify({
      ...metadata,
      client_id: reg.client_id,
      client_name: 'late',
      client_secret: reg.client_secret,
    });
    const slow = slowRequest('PUT', reg.registration_client_uri, reg.registration_access_token, body, reg.client_id);
    await slow.checked;
    // The registration token stays valid; only the secret the body presents stops being valid.
    const rotated = await t.clients.rotateSecret(reg.client_id, 0);
    slow.finish();
    expectRegistrationError(await slow.response, 400, 'invalid_client_metadata');
    const read = await api.read(reg.registration_client_uri, reg.registration_access_token);
    expect(read.json.client_name).toBe('owner');
    expect((await tokenWithBasic(t, reg.client_id, rotated.clientSecret!)).status).toBe(200);
  });

  describe('operator paths (rotate-secret, retire-previous-secret, rotate-registration-token) write only what they read', () => {
    /** Runs `during` right after the operator call has read the client, before it writes. */
    async function interleaved<T>(
      clientId: string,
      operator: () => Promise<T>,
      during: () => Promise<void>,
    ): Promise<T> {
      const store = t.app.get(ClientStore);
      const read = store.findWithSecrets.bind(store);
      const spy = vi.spyOn(store, 'findWithSecrets').mockImplementation(async (id: string) => {
        const found = await read(id);
        if (id === clientId) {
          spy.mockRestore();
          await during();
        }
        return found;
      });
      try {
        return await operator();
      } finally {
        spy.mockRestore();
      }
    }

    it.each<[string, (id: string) => Promise<unknown>]>([
      ['rotateSecret', (id) => t.clients.rotateSecret(id)],
      ['retirePreviousSecret', (id) => t.clients.retirePreviousSecret(id)],
      ['rotateRegistrationToken', (id) => t.clients.rotateRegistrationToken(id)],
    ])(
      "%s racing an owner's PUT → refused (retry), the PUT's credentials stand, nothing is lost",
      async (_name, operation) => {
        const reg = await api.registerOk(metadata);
        // a second secret, so that retirePreviousSecret has something to retire
        const first = await api.update(
          reg.registration_client_uri,
          { ...metadata, client_id: reg.client_id },
          reg.registration_access_token,
        );
        let owner!: JsonResponse;
        await expect(
          interleaved(
            reg.client_id,
            () => operation(reg.client_id),
            async () => {
              owner = await api.update(
                reg.registration_client_uri,
                { ...metadata, client_id: reg.client_id, client_name: 'by owner' },
                first.json.registration_access_token,
              );
            },
          ),
        ).rejects.toMatchObject({ code: 'invalid_request' });
        expect(owner.status, owner.text).toBe(200);
        const read = await api.read(reg.registration_client_uri, owner.json.registration_access_token);
        expect(read.status).toBe(200);
        expect(read.json.client_name).toBe('by owner');
        expect((await tokenWithBasic(t, reg.client_id, owner.json.client_secret)).status).toBe(200);
        expect((await tokenWithBasic(t, reg.client_id, first.json.client_secret)).status).toBe(200); // the overlap the PUT opened
      },
    );
  });
});

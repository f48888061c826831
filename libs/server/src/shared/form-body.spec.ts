import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../errors/oauth-error.js';
import { hideBodyFromHostParsers, readForm, readJson } from './form-body.js';

const FORM_TYPE = 'application/x-www-form-urlencoded';

const req = (body: string, headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }) =>
  Object.assign(Readable.from([Buffer.from(body)]), { headers }) as unknown as IncomingMessage;
const error = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: OAuthError) => `${e.status} ${e.code}`,
  );

describe('readForm', () => {
  it('parses a form; empty values count as absent (RFC 6749 §3.1)', async () => {
    const f = await readForm(req('grant_type=client_credentials&scope=&a=%20b'), 1024);
    expect(f.get('grant_type')).toBe('client_credentials');
    expect(f.has('scope')).toBe(false);
    expect(f.get('a')).toBe(' b');
  });
  it('accepts a charset parameter', async () => {
    expect(
      (await readForm(req('a=1', { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }), 1024)).get(
        'a',
      ),
    ).toBe('1');
  });
  it('rejects repeated parameters, but allows repeated resource (RFC 8707)', async () => {
    expect(await error(readForm(req('a=1&a=2'), 1024))).toBe('400 invalid_request');
    expect((await readForm(req('resource=https://a/&resource=https://b/'), 1024)).getAll('resource')).toEqual([
      'https://a/',
      'https://b/',
    ]);
  });
  it('rejects other content types', async () => {
    expect(await error(readForm(req('{}', { 'content-type': 'application/json' }), 1024))).toBe('400 invalid_request');
    expect(await error(readForm(req('a=1', {}), 1024))).toBe('400 invalid_request');
  });
  it('rejects bodies over the limit with 413, and too many parameters with 400', async () => {
    expect(await error(readForm(req('a='.padEnd(2000, 'x')), 1024))).toBe('413 invalid_request');
    expect(await error(readForm(req(Array.from({ length: 40 }, (_, i) => `p${i}=1`).join('&')), 4096))).toBe(
      '400 invalid_request',
    );
  });
  it('uses a body the host already parsed (arrays mean repeats)', async () => {
    const parsed = Object.assign(req(''), { body: { grant_type: 'client_credentials', scope: ['a', 'b'] } });
    expect(await error(readForm(parsed, 1024))).toBe('400 invalid_request');
  });
});

describe('hideBodyFromHostParsers', () => {
  it('takes the content type away from parsers; readForm restores the headers and reads the stream, ignoring any parsed body', async () => {
    const r = Object.assign(
      req('grant_type=client_credentials&a=1&a=2', {
        'content-type': FORM_TYPE,
        'content-length': '38',
        'x-other': '1',
      }),
      { body: {} as unknown },
    );
    hideBodyFromHostParsers(r);
    expect(r.headers).toEqual({ 'content-length': '38', 'x-other': '1' });
    expect(await error(readForm(r, 1024))).toBe('400 invalid_request');
    expect(r.headers).toEqual({ 'content-type': FORM_TYPE, 'content-length': '38', 'x-other': '1' });
  });
  it('readJson enforces its limit on a hidden body even when a parser set an object', async () => {
    const r = Object.assign(req(JSON.stringify({ pad: 'x'.repeat(2000) }), { 'content-type': 'application/json' }), {
      body: { pad: 'parsed' },
    });
    hideBodyFromHostParsers(r);
    const e = await readJson(r, 1024, (d) => new Error(d)).catch((x: Error) => x.message);
    expect(e).toBe('the request body exceeds 1024 bytes');
  });
});

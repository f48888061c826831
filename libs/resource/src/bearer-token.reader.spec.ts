import { describe, expect, it } from 'vitest';
import { BearerTokenError } from './bearer-token.error.js';
import { readBearerToken, type BearerTokenRequest } from './bearer-token.reader.js';

const req = (authorization?: string, extra: Partial<BearerTokenRequest> = {}): BearerTokenRequest => ({
  headers: authorization === undefined ? {} : { authorization },
  url: '/statements',
  ...extra,
});

function rejection(request: BearerTokenRequest) {
  try {
    readBearerToken(request);
  } catch (e) {
    expect(e).toBeInstanceOf(BearerTokenError);
    const error = e as BearerTokenError;
    return { status: error.getStatus(), body: error.getResponse() };
  }
  throw new Error('expected a rejection');
}

const malformed = {
  status: 400,
  body: { error: 'invalid_request', error_description: 'the Authorization header is not a valid Bearer credential' },
};
const misplaced = {
  status: 400,
  body: {
    error: 'invalid_request',
    error_description: 'the access token must be sent in the Authorization header only',
  },
};

describe('readBearerToken', () => {
  it('reads the b64token of a Bearer header, scheme case-insensitive', () => {
    expect(readBearerToken(req('Bearer abc.DEF-_~+/.x=='))).toBe('abc.DEF-_~+/.x==');
    expect(readBearerToken(req('bearer a.b.c'))).toBe('a.b.c');
    expect(readBearerToken(req('BEARER  a.b.c'))).toBe('a.b.c');
  });

  it('returns undefined when the request carries no bearer credentials', () => {
    expect(readBearerToken(req())).toBeUndefined();
    expect(readBearerToken(req(''))).toBeUndefined();
    expect(readBearerToken(req('Basic eDp5'))).toBeUndefined();
    expect(readBearerToken(req('Bearerx a.b.c'))).toBeUndefined();
  });

  it.each([
    ['Bearer'],
    ['Bearer '],
    ['Bearer a.b.c d'],
    ['Bearer a,b'],
    ['Bearer a=b'],
    ['Bearer "a.b.c"'],
    ['Bearer\ta.b.c'],
  ])('rejects the malformed header %j with 400 invalid_request', (header) =>
    expect(rejection(req(header))).toEqual(malformed),
  );

  it('rejects repeated Authorization headers', () => {
    const rawHeaders = ['Authorization', 'Bearer a', 'authorization', 'Bearer b'];
    expect(rejection(req('Bearer a', { rawHeaders }))).toEqual(malformed);
    expect(rejection(req('Bearer a', { raw: { rawHeaders } }))).toEqual(malformed); // Fastify
    expect(readBearerToken(req('Bearer a', { rawHeaders: ['Authorization', 'Bearer a', 'Host', 'x'] }))).toBe('a');
  });

  it('rejects an access_token in the query or the body, with or without the header', () => {
    expect(rejection(req('Bearer a', { url: '/statements?access_token=a' }))).toEqual(misplaced);
    expect(rejection(req(undefined, { originalUrl: '/statements?x=1&access_token=a' }))).toEqual(misplaced);
    expect(rejection(req('Bearer a', { body: { access_token: 'a' } }))).toEqual(misplaced);
    expect(readBearerToken(req('Bearer a', { url: '/statements?token=a', body: { other: 1 } }))).toBe('a');
  });
});

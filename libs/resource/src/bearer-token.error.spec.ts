import { describe, expect, it } from 'vitest';
import { BearerTokenError } from './bearer-token.error.js';

const realm = 'https://api.example.test';

describe('BearerTokenError', () => {
  it('has no error code when the token is missing (RFC 6750 §3.1)', () => {
    const e = BearerTokenError.missingToken();
    expect(e.getStatus()).toBe(401);
    expect(e.getResponse()).toEqual({ error_description: 'an access token is required' });
    expect(e.challenge(realm)).toBe('Bearer realm="https://api.example.test"');
  });

  it('renders invalid_token with a fixed description and keeps the reason private', () => {
    const e = BearerTokenError.invalidToken('ERR_JWT_EXPIRED: "exp" claim timestamp check failed');
    expect(e.getStatus()).toBe(401);
    expect(e.getResponse()).toEqual({
      error: 'invalid_token',
      error_description: 'the access token is invalid or expired',
    });
    expect(e.challenge(realm)).toBe(
      'Bearer realm="https://api.example.test", error="invalid_token", error_description="the access token is invalid or expired"',
    );
    expect(JSON.stringify(e.getResponse())).not.toContain('ERR_JWT');
  });

  it('names the needed scopes on insufficient_scope', () => {
    const e = BearerTokenError.insufficientScope(['a:read', 'b:write']);
    expect(e.getStatus()).toBe(403);
    expect(e.challenge(realm)).toBe(
      'Bearer realm="https://api.example.test", error="insufficient_scope", error_description="the access token lacks the required scope", scope="a:read b:write"',
    );
  });

  it('answers invalid_request with 400, and 503 without a challenge', () => {
    expect(BearerTokenError.invalidRequest('malformed').getStatus()).toBe(400);
    const unavailable = BearerTokenError.unavailable('connect ECONNREFUSED');
    expect(unavailable.getStatus()).toBe(503);
    expect(unavailable.getResponse()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the access token cannot be checked right now',
    });
    expect(unavailable.challenge(realm)).toBeUndefined();
  });

  it('quotes the realm', () => {
    expect(BearerTokenError.missingToken().challenge('a "b" \\c')).toBe('Bearer realm="a \\"b\\" \\\\c"');
  });
});

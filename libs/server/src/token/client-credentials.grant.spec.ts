import { describe, expect, it } from 'vitest';
import { OAuthError } from '../errors/oauth-error.js';
import { audience, grantedScope } from './client-credentials.grant.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as OAuthError).code;
  }
  return 'no error';
};

describe('grantedScope', () => {
  it('none requested → the registered scope', () => expect(grantedScope(undefined, 'a b')).toBe('a b'));
  it('a subset is granted, deduplicated, in request order', () => expect(grantedScope('b a b', 'a b c')).toBe('b a'));
  it('anything outside → invalid_scope', () => expect(code(() => grantedScope('a z', 'a b'))).toBe('invalid_scope'));
  it('malformed tokens → invalid_scope', () => expect(code(() => grantedScope('a "b"', 'a b'))).toBe('invalid_scope'));
  it('nothing registered, something requested → invalid_scope', () =>
    expect(code(() => grantedScope('a', ''))).toBe('invalid_scope'));
});

describe('audience', () => {
  it('no resource → the default audience', () => expect(audience([], [], 'https://as')).toBe('https://as'));
  it('an allowed resource → that resource', () =>
    expect(audience(['https://api/'], ['https://api/'], 'x')).toBe('https://api/'));
  it('several allowed resources → an array', () =>
    expect(audience(['https://a/', 'https://b/'], ['https://a/', 'https://b/'], 'x')).toEqual([
      'https://a/',
      'https://b/',
    ]));
  it('not allowed → invalid_target', () =>
    expect(code(() => audience(['https://c/'], ['https://a/'], 'x'))).toBe('invalid_target'));
  it('relative or with a fragment → invalid_target', () => {
    expect(code(() => audience(['/api'], ['/api'], 'x'))).toBe('invalid_target');
    expect(code(() => audience(['https://a/#f'], ['https://a/#f'], 'x'))).toBe('invalid_target');
  });
});

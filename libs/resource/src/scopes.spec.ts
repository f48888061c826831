import { describe, expect, it } from 'vitest';
import { hasScopes, parseScope } from './scopes.js';

describe('parseScope', () => {
  it('splits on spaces and ignores a missing or non-string claim', () => {
    expect(parseScope('a b  c')).toEqual(['a', 'b', 'c']);
    expect(parseScope('')).toEqual([]);
    expect(parseScope(undefined)).toEqual([]);
    expect(parseScope(['a'])).toEqual([]);
  });
});

describe('hasScopes', () => {
  it('needs every required scope', () => {
    expect(hasScopes({ scope: 'statements:read statements:write' }, ['statements:read'])).toBe(true);
    expect(hasScopes({ scope: 'statements:read statements:write' }, ['statements:write', 'statements:read'])).toBe(
      true,
    );
    expect(hasScopes({ scope: 'statements:read' }, ['statements:read', 'statements:write'])).toBe(false);
    expect(hasScopes({ scope: 'statements:readonly' }, ['statements:read'])).toBe(false);
    expect(hasScopes({}, ['statements:read'])).toBe(false);
  });

  it('passes when nothing is required', () => {
    expect(hasScopes({}, [])).toBe(true);
  });
});

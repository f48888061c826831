/**
 * Splits a `scope` claim (space-delimited scope tokens) into its tokens; a missing claim is no scope.
 * @see RFC 9068 §2.2.3
 * @see RFC 6749 §3.3
 */
export function parseScope(scope: unknown): string[] {
  if (typeof scope !== 'string') return [];
  return scope.split(' ').filter((token) => token !== '');
}

/**
 * Whether the token's `scope` claim holds every one of the `required` scopes (none required: true).
 * @see RFC 6750 §3.1
 */
export function hasScopes(claims: { scope?: unknown }, required: readonly string[]): boolean {
  if (required.length === 0) return true;
  const granted = new Set(parseScope(claims.scope));
  return required.every((scope) => granted.has(scope));
}

import { OAuthError } from '../errors/oauth-error.js';
import type { ServerSettings } from '../options/server-settings.js';
import { normaliseScope } from './client-metadata.js';
import { TOKEN_ENDPOINT_AUTH_METHODS, type ClientRecord, type TokenEndpointAuthMethod } from './client.record.js';

/**
 * What a client may hold, set by whoever admitted it: the operator (service or CLI) or the policy
 * of the initial access token it registered with. A self-service update (RFC 7592 PUT) may narrow
 * the client's metadata within the ceiling, never widen it; widening is an operator action.
 * Each member: null = no ceiling. See docs/adr/0010-authorisation-at-the-write-and-admission-ceiling.md.
 */
export interface ClientCeiling {
  /** Scopes the client may hold (space-separated). */
  maxScope: string | null;
  /** Resource indicators (RFC 8707) the client may hold. */
  maxResources: string[] | null;
  /** Authentication methods the client may use. */
  allowedMethods: TokenEndpointAuthMethod[] | null;
}

/** The metadata a ceiling bounds. */
type Bounded = Pick<ClientRecord, 'scope' | 'resources' | 'tokenEndpointAuthMethod'>;

/** What of `held` lies outside `ceiling`, one phrase per member (empty when it fits). */
function outsideCeiling(held: Bounded, ceiling: ClientCeiling): string[] {
  const problems: string[] = [];
  if (ceiling.maxScope !== null) {
    const allowed = new Set(ceiling.maxScope.split(' ').filter(Boolean));
    const extra = held.scope.split(' ').filter((s) => s && !allowed.has(s));
    if (extra.length) problems.push(`scope ${extra.join(' ')}`);
  }
  if (ceiling.maxResources !== null) {
    const extra = held.resources.filter((r) => !ceiling.maxResources!.includes(r));
    if (extra.length) problems.push(`resources ${extra.join(' ')}`);
  }
  if (ceiling.allowedMethods !== null && !ceiling.allowedMethods.includes(held.tokenEndpointAuthMethod))
    problems.push(`token_endpoint_auth_method ${held.tokenEndpointAuthMethod}`);
  return problems;
}

/** The members (not their values: they come from the request) that lie outside, for logs and audit events. */
export function membersOutsideCeiling(held: Bounded, ceiling: ClientCeiling): string {
  return outsideCeiling(held, ceiling)
    .map((p) => p.split(' ')[0])
    .join(', ');
}

/**
 * Throws 400 `invalid_client_metadata` naming what lies outside the ceiling (RFC 7591 §3.2.2).
 * `whose` names the ceiling in the message ("this client's", "the initial access token's").
 */
export function assertWithinCeiling(held: Bounded, ceiling: ClientCeiling, whose: string): void {
  const problems = outsideCeiling(held, ceiling);
  if (problems.length) throw OAuthError.invalidMetadata(`outside ${whose} allowed values: ${problems.join('; ')}`);
}

/**
 * The ceiling of a new client: each member given explicitly (by the operator or an initial access
 * token's policy) stays; a scope or resource ceiling not given is what the client registered with,
 * a method ceiling not given is none.
 */
export function ceilingFor(held: Bounded, given: Partial<ClientCeiling> = {}): ClientCeiling {
  return {
    maxScope: given.maxScope === undefined ? held.scope : given.maxScope,
    maxResources: given.maxResources === undefined ? [...held.resources] : given.maxResources,
    allowedMethods: given.allowedMethods === undefined ? null : given.allowedMethods,
  };
}

/** The smallest ceiling that holds both `ceiling` and `held` (an operator update widens to what it sets). */
export function widenedToHold(ceiling: ClientCeiling, held: Bounded): ClientCeiling {
  const scopes = (s: string) => s.split(' ').filter(Boolean);
  return {
    maxScope:
      ceiling.maxScope === null ? null : [...new Set([...scopes(ceiling.maxScope), ...scopes(held.scope)])].join(' '),
    maxResources: ceiling.maxResources === null ? null : [...new Set([...ceiling.maxResources, ...held.resources])],
    allowedMethods:
      ceiling.allowedMethods === null || ceiling.allowedMethods.includes(held.tokenEndpointAuthMethod)
        ? ceiling.allowedMethods
        : [...ceiling.allowedMethods, held.tokenEndpointAuthMethod],
  };
}

/**
 * Validates and normalises a ceiling (or an initial access token's policy) given by an operator:
 * scopes the server offers, absolute resource URIs without a fragment, known methods.
 * @throws OAuthError `invalid_request` naming the first problem.
 */
export function normaliseCeiling(
  input: Partial<ClientCeiling>,
  settings: Pick<ServerSettings, 'scopes'>,
): Partial<ClientCeiling> {
  const bad = (d: string) => OAuthError.invalidRequest(d);
  const out: Partial<ClientCeiling> = {};
  if (input.maxScope !== undefined && input.maxScope !== null) {
    const scope = normaliseScope(input.maxScope);
    if (scope === null) throw bad('the allowed scope must be a space-separated list of scope tokens');
    const unknown = settings.scopes.length ? scope.split(' ').filter((s) => s && !settings.scopes.includes(s)) : [];
    if (unknown.length) throw bad(`the allowed scope contains values this server does not offer: ${unknown.join(' ')}`);
    out.maxScope = scope;
  } else if (input.maxScope === null) out.maxScope = null;
  if (input.maxResources !== undefined && input.maxResources !== null) {
    if (!Array.isArray(input.maxResources)) throw bad('the allowed resources must be a list of absolute URIs');
    for (const r of input.maxResources)
      if (!isAbsoluteUriWithoutFragment(r)) throw bad('the allowed resources must be absolute URIs without a fragment');
    out.maxResources = [...new Set(input.maxResources)];
  } else if (input.maxResources === null) out.maxResources = null;
  if (input.allowedMethods !== undefined && input.allowedMethods !== null) {
    if (!Array.isArray(input.allowedMethods) || input.allowedMethods.length === 0)
      throw bad('the allowed methods must be a non-empty list');
    const unknown = input.allowedMethods.filter((m) => !TOKEN_ENDPOINT_AUTH_METHODS.includes(m));
    if (unknown.length)
      throw bad(
        `unknown token_endpoint_auth_method: ${unknown.join(' ')}; one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`,
      );
    out.allowedMethods = [...new Set(input.allowedMethods)];
  } else if (input.allowedMethods === null) out.allowedMethods = null;
  return out;
}

function isAbsoluteUriWithoutFragment(value: unknown): boolean {
  if (typeof value !== 'string' || value.includes('#') || value.includes('\u0000')) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

import { Reflector } from '@nestjs/core';

/**
 * Scopes a route (or every route of a controller) needs, all of them; a handler's list overrides its
 * controller's. Enforced by `BearerTokenGuard`, which answers 403 `insufficient_scope` naming them.
 * @see RFC 6750 §3.1
 * @example `@RequireScopes(['statements:read'])`
 */
export const RequireScopes = Reflector.createDecorator<string[]>();

import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AccessTokenClaims } from './access-token.verifier.js';

/**
 * A request that passed `BearerTokenGuard`.
 * @see RFC 9068 §2.2
 */
export interface ClavisRequest {
  /** The verified access-token claims, set by `BearerTokenGuard`. */
  clavisClaims?: AccessTokenClaims;
}

/**
 * Hands the handler the claims verified by `BearerTokenGuard`, or one claim by name
 * (`undefined` on a route without the guard).
 * @see RFC 9068 §2.2
 * @example `list(@TokenClaims() claims: AccessTokenClaims, @TokenClaims('client_id') clientId: string)`
 */
export const TokenClaims = createParamDecorator(
  (claim: keyof AccessTokenClaims | undefined, context: ExecutionContext) => {
    const claims = context.switchToHttp().getRequest<ClavisRequest>().clavisClaims;
    return claim === undefined ? claims : claims?.[claim];
  },
);

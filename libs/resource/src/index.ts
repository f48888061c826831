export type { AccessTokenClaims } from './access-token.verifier.js';
export { AccessTokenVerifier } from './access-token.verifier.js';
export type { BearerErrorBody, BearerErrorCode } from './bearer-token.error.js';
export { BearerTokenError } from './bearer-token.error.js';
export { BearerTokenGuard } from './bearer-token.guard.js';
export { ClavisResourceModule } from './clavis-resource.module.js';
export { RequireScopes } from './require-scopes.decorator.js';
export type {
  AccessTokenAlgorithm,
  AccessTokenKeySource,
  ClavisResourceOptions,
  ResourceClock,
  ResourceSettings,
} from './resource-options.js';
export {
  ClavisResourceConfigurationError,
  DEFAULT_RESOURCE_OPTIONS,
  resolveResourceOptions,
} from './resource-options.js';
export { hasScopes, parseScope } from './scopes.js';
export type { ClavisRequest } from './token-claims.decorator.js';
export { TokenClaims } from './token-claims.decorator.js';

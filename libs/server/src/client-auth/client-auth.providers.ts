import type { Provider } from '@nestjs/common';
import { ClientAssertionVerifier } from './client-assertion.verifier.js';
import { CLIENT_AUTH_STRATEGIES } from './client-auth.strategy.js';
import { ClientSecretBasicStrategy } from './client-secret-basic.strategy.js';
import { ClientSecretJwtStrategy } from './client-secret-jwt.strategy.js';
import { ClientSecretPostStrategy } from './client-secret-post.strategy.js';
import { PrivateKeyJwtStrategy } from './private-key-jwt.strategy.js';
import { FederatedJwtStrategy } from './federated-jwt.strategy.js';
import { FederatedIssuerKeys } from './federated-issuer-keys.js';

/** One strategy per client-authentication method; a new method is one more class here. */
const STRATEGIES = [
  ClientSecretBasicStrategy,
  ClientSecretPostStrategy,
  ClientSecretJwtStrategy,
  PrivateKeyJwtStrategy,
  FederatedJwtStrategy,
];

/** The assertion rules shared by the JWT methods, the strategies, and their list for the authenticator. */
export const CLIENT_AUTH_PROVIDERS: Provider[] = [
  ClientAssertionVerifier,
  FederatedIssuerKeys,
  ...STRATEGIES,
  {
    provide: CLIENT_AUTH_STRATEGIES,
    inject: STRATEGIES,
    useFactory: (...strategies: InstanceType<(typeof STRATEGIES)[number]>[]) => strategies,
  },
];

import { ClientEntity, ClientSecretEntity, FederatedCredentialEntity } from './client.entity.js';
import { InitialAccessTokenEntity, RevokedTokenEntity, SigningKeyEntity, UsedJtiEntity } from './security.entity.js';
import { ClavisInitial1764200000000 } from './migrations/1764200000000-clavis-initial.js';
import { ClavisAdmissionCeiling1764300000010 } from './migrations/1764300000010-clavis-admission-ceiling.js';
import { ClavisFederatedCredentials1764500000001 } from './migrations/1764500000001-clavis-federated-credentials.js';

/** Every Clavis entity: add them to the host's DataSource `entities`. */
export const CLAVIS_ENTITIES = [
  ClientEntity,
  ClientSecretEntity,
  FederatedCredentialEntity,
  UsedJtiEntity,
  RevokedTokenEntity,
  InitialAccessTokenEntity,
  SigningKeyEntity,
];

/** Every Clavis migration: add them to the host's DataSource `migrations` and run them. */
export const CLAVIS_MIGRATIONS = [
  ClavisInitial1764200000000,
  ClavisAdmissionCeiling1764300000010,
  ClavisFederatedCredentials1764500000001,
];

export {
  ClientEntity,
  ClientSecretEntity,
  FederatedCredentialEntity,
  UsedJtiEntity,
  RevokedTokenEntity,
  InitialAccessTokenEntity,
  SigningKeyEntity,
};

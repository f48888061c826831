import { ClientChangeEntity, ClientEntity, ClientSecretEntity } from './client.entity.js';
import { InitialAccessTokenEntity, RevokedTokenEntity, SigningKeyEntity, UsedJtiEntity } from './security.entity.js';
import { ClavisInitial1764200000000 } from './migrations/1764200000000-clavis-initial.js';
import { ClavisAdmissionCeiling1764300000010 } from './migrations/1764300000010-clavis-admission-ceiling.js';
import { ClavisClientChangeCounter1764700000001 } from './migrations/1764700000001-clavis-client-change-counter.js';

/** Every Clavis entity: add them to the host's DataSource `entities`. */
export const CLAVIS_ENTITIES = [
  ClientEntity,
  ClientSecretEntity,
  ClientChangeEntity,
  UsedJtiEntity,
  RevokedTokenEntity,
  InitialAccessTokenEntity,
  SigningKeyEntity,
];

/** Every Clavis migration: add them to the host's DataSource `migrations` and run them. */
export const CLAVIS_MIGRATIONS = [
  ClavisInitial1764200000000,
  ClavisAdmissionCeiling1764300000010,
  ClavisClientChangeCounter1764700000001,
];

export {
  ClientEntity,
  ClientSecretEntity,
  UsedJtiEntity,
  RevokedTokenEntity,
  InitialAccessTokenEntity,
  SigningKeyEntity,
};

import { ClientChangeEntity, ClientEntity, ClientSecretEntity, FederatedCredentialEntity } from './client.entity.js';
import { InitialAccessTokenEntity, RevokedTokenEntity, SigningKeyEntity, UsedJtiEntity } from './security.entity.js';
import { ClavisInitial1764200000000 } from './migrations/1764200000000-clavis-initial.js';
import { ClavisAdmissionCeiling1764300000010 } from './migrations/1764300000010-clavis-admission-ceiling.js';
import { ClavisMigrationSecretMethod1764400000001 } from './migrations/1764400000001-clavis-migration-secret-method.js';
import { ClavisFederatedCredentials1764500000001 } from './migrations/1764500000001-clavis-federated-credentials.js';
import { ClavisCredentialUsage1764600000001 } from './migrations/1764600000001-clavis-credential-usage.js';
import { ClavisClientChangeCounter1764700000001 } from './migrations/1764700000001-clavis-client-change-counter.js';
import { CredentialNoticeEntity, CredentialUsageEntity } from './usage.entity.js';

/** Every Clavis entity: add them to the host's DataSource `entities`. */
export const CLAVIS_ENTITIES = [
  ClientEntity,
  ClientSecretEntity,
  ClientChangeEntity,
  FederatedCredentialEntity,
  UsedJtiEntity,
  RevokedTokenEntity,
  InitialAccessTokenEntity,
  SigningKeyEntity,
  CredentialUsageEntity,
  CredentialNoticeEntity,
];

/** Every Clavis migration: add them to the host's DataSource `migrations` and run them. */
export const CLAVIS_MIGRATIONS = [
  ClavisInitial1764200000000,
  ClavisAdmissionCeiling1764300000010,
  ClavisMigrationSecretMethod1764400000001,
  ClavisFederatedCredentials1764500000001,
  ClavisCredentialUsage1764600000001,
  ClavisClientChangeCounter1764700000001,
];

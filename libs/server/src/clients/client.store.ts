import type { ClientRecord, ClientSecretRecord } from './client.record.js';

/** A client with its secrets (newest first). */
export interface ClientWithSecrets {
  client: ClientRecord;
  secrets: ClientSecretRecord[];
}

/** Raised by `ClientStore.save` when the client changed since it was read. */
export class ClientVersionConflictError extends Error {
  constructor(clientId: string) {
    super(`client ${clientId} was modified concurrently`);
    this.name = 'ClientVersionConflictError';
  }
}

/**
 * A condition a write holds to, checked by the database in the write itself (never read first and
 * written later): the stored registration access token digest must still be this one.
 */
export interface ClientWriteCondition {
  registrationAccessTokenHash: string;
}

/** Storage port for clients and their secrets. No crypto here: services hash and compare. */
export abstract class ClientStore {
  abstract findById(clientId: string): Promise<ClientRecord | null>;
  abstract findWithSecrets(clientId: string): Promise<ClientWithSecrets | null>;
  abstract list(): Promise<ClientRecord[]>;
  /** The id of the client holding this federated credential (issuer + subject, exactly); null when none does. */
  abstract findIdByFederatedCredential(issuer: string, subject: string): Promise<string | null>;
  /**
   * Inserts a new client and its secrets in one transaction; its federated credentials are unique
   * across clients (a unique index: two concurrent registrations of one identity cannot both succeed).
   * @throws FederatedCredentialTakenError when another client holds one of them.
   */
  abstract create(client: ClientRecord, secrets: ClientSecretRecord[]): Promise<void>;
  /**
   * Saves the client if its stored version is `client.version - 1`, and, when `secrets` is given,
   * replaces the client's whole secret set with it — all in one transaction. With `condition`, the
   * stored registration access token digest must also still match, in the same conditional write.
   * Its federated credentials replace the stored ones, unique across clients as in `create`.
   * @throws ClientVersionConflictError when the stored version or token digest differs (or the client is gone).
   * @throws FederatedCredentialTakenError when another client holds one of its federated credentials.
   */
  abstract update(
    client: ClientRecord,
    secrets?: ClientSecretRecord[],
    condition?: ClientWriteCondition,
  ): Promise<void>;
  /**
   * Deletes the client and its secrets; false when there was none — or, with `condition`, when its
   * stored registration access token digest no longer matches (checked in the delete itself).
   */
  abstract delete(clientId: string, condition?: ClientWriteCondition): Promise<boolean>;
  /**
   * How many client secrets stop being accepted (their `expiresAt`, or the `retiresAt` of a previous
   * secret in its overlap) after `from` and at or before `to` (for metrics; optional).
   */
  countSecretsEndingBetween?(from: number, to: number): Promise<number>;
}

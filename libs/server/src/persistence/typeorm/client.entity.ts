import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { JSONWebKeySet } from 'jose';
import type { ClientRecord, ClientSecretRecord, TokenEndpointAuthMethod } from '../../clients/client.record.js';
import { epochSeconds } from './columns.js';

@Entity({ name: 'clavis_client' })
export class ClientEntity implements ClientRecord {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;
  @Column({ name: 'client_name', type: 'varchar', length: 255, nullable: true })
  clientName: string | null;
  @Column({ name: 'token_endpoint_auth_method', type: 'varchar', length: 32 })
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  @Column({
    name: 'token_endpoint_auth_signing_alg',
    type: 'varchar',
    length: 16,
    nullable: true,
  })
  tokenEndpointAuthSigningAlg: string | null;
  @Column({ name: 'grant_types', type: 'simple-json' }) grantTypes: string[];
  @Column({ name: 'scope', type: 'text' }) scope: string;
  @Column({ name: 'resources', type: 'simple-json' }) resources: string[];
  @Column({ name: 'jwks', type: 'simple-json', nullable: true })
  jwks: JSONWebKeySet | null;
  @Column({ name: 'jwks_uri', type: 'varchar', length: 2048, nullable: true })
  jwksUri: string | null;
  @Column({ name: 'contacts', type: 'simple-json' }) contacts: string[];
  @Column({ name: 'client_uri', type: 'varchar', length: 2048, nullable: true })
  clientUri: string | null;
  @Column({ name: 'software_id', type: 'varchar', length: 255, nullable: true })
  softwareId: string | null;
  @Column({
    name: 'software_version',
    type: 'varchar',
    length: 255,
    nullable: true,
  })
  softwareVersion: string | null;
  /** The admission ceiling (see ClientRecord); null = none. */
  @Column({ name: 'max_scope', type: 'text', nullable: true }) maxScope: string | null;
  @Column({ name: 'max_resources', type: 'simple-json', nullable: true })
  maxResources: string[] | null;
  @Column({ name: 'allowed_methods', type: 'simple-json', nullable: true })
  allowedMethods: TokenEndpointAuthMethod[] | null;
  @Column({
    name: 'registration_access_token_hash',
    type: 'varchar',
    length: 64,
    nullable: true,
  })
  registrationAccessTokenHash: string | null;
  @Column({
    name: 'client_id_issued_at',
    type: 'bigint',
    transformer: epochSeconds,
  })
  clientIdIssuedAt: number;
  @Column({ name: 'updated_at', type: 'bigint', transformer: epochSeconds })
  updatedAt: number;
  @Column({ name: 'version', type: 'integer' }) version: number;
}

@Entity({ name: 'clavis_client_secret' })
@Index('idx_clavis_client_secret_client', ['clientId'])
export class ClientSecretEntity implements ClientSecretRecord {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 32 }) id: string;
  @Column({ name: 'client_id', type: 'varchar', length: 64 }) clientId: string;
  @Column({ name: 'secret_hash', type: 'varchar', length: 64, nullable: true })
  secretHash: string | null;
  @Column({ name: 'secret_encrypted', type: 'text', nullable: true })
  secretEncrypted: string | null;
  @Column({ name: 'created_at', type: 'bigint', transformer: epochSeconds })
  createdAt: number;
  @Column({
    name: 'expires_at',
    type: 'bigint',
    nullable: true,
    transformer: epochSeconds,
  })
  expiresAt: number | null;
  @Column({
    name: 'retires_at',
    type: 'bigint',
    nullable: true,
    transformer: epochSeconds,
  })
  retiresAt: number | null;
}

/**
 * The client change counter (one row, id 1): incremented with every client write on PostgreSQL,
 * in the write's transaction; see client-cache.ts.
 */
@Entity({ name: 'clavis_client_change' })
export class ClientChangeEntity {
  @PrimaryColumn({ name: 'id', type: 'integer' }) id: number;
  @Column({ name: 'counter', type: 'bigint' }) counter: string;
}

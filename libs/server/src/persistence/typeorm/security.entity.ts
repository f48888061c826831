import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { TokenEndpointAuthMethod } from '../../clients/client.record.js';
import { epochSeconds } from './columns.js';

/** A client assertion `jti` seen before its `exp` (single use). Keyed per client; the jti is stored hashed (fixed size). */
@Entity({ name: 'clavis_used_jti' })
@Index('idx_clavis_used_jti_expires', ['expiresAt'])
export class UsedJtiEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;
  @PrimaryColumn({ name: 'jti_hash', type: 'varchar', length: 64 })
  jtiHash: string;
  @Column({ name: 'expires_at', type: 'bigint', transformer: epochSeconds })
  expiresAt: number;
}

/** A revoked access token's `jti`, kept until the token's `exp`. */
@Entity({ name: 'clavis_revoked_token' })
@Index('idx_clavis_revoked_token_expires', ['expiresAt'])
export class RevokedTokenEntity {
  @PrimaryColumn({ name: 'jti', type: 'varchar', length: 64 }) jti: string;
  @Column({ name: 'expires_at', type: 'bigint', transformer: epochSeconds })
  expiresAt: number;
}

/** An initial access token for `POST /register`, stored hashed. */
@Entity({ name: 'clavis_initial_access_token' })
export class InitialAccessTokenEntity {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 32 }) id: string;
  @Index('idx_clavis_iat_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;
  @Column({ name: 'description', type: 'varchar', length: 255, nullable: true })
  description: string | null;
  @Column({ name: 'created_at', type: 'bigint', transformer: epochSeconds })
  createdAt: number;
  @Column({
    name: 'expires_at',
    type: 'bigint',
    nullable: true,
    transformer: epochSeconds,
  })
  expiresAt: number | null;
  /** Remaining registrations; null = unlimited. */
  @Column({ name: 'uses_remaining', type: 'integer', nullable: true })
  usesRemaining: number | null;
  /** The token's policy (the ceiling of the clients it admits); null = not restricted. */
  @Column({ name: 'allowed_scope', type: 'text', nullable: true })
  allowedScope: string | null;
  @Column({ name: 'allowed_resources', type: 'simple-json', nullable: true })
  allowedResources: string[] | null;
  @Column({ name: 'allowed_methods', type: 'simple-json', nullable: true })
  allowedMethods: TokenEndpointAuthMethod[] | null;
}

/** A server signing key: `next` → `active` → `retired`. The private JWK is encrypted with the KEK. */
@Entity({ name: 'clavis_signing_key' })
export class SigningKeyEntity {
  @PrimaryColumn({ name: 'kid', type: 'varchar', length: 64 }) kid: string;
  @Column({ name: 'alg', type: 'varchar', length: 16 }) alg: string;
  @Column({ name: 'state', type: 'varchar', length: 16 }) state: 'next' | 'active' | 'retired';
  @Column({ name: 'public_jwk', type: 'simple-json' }) publicJwk: Record<string, unknown>;
  @Column({ name: 'private_jwk_encrypted', type: 'text' })
  privateJwkEncrypted: string;
  @Column({ name: 'created_at', type: 'bigint', transformer: epochSeconds })
  createdAt: number;
  @Column({
    name: 'activated_at',
    type: 'bigint',
    nullable: true,
    transformer: epochSeconds,
  })
  activatedAt: number | null;
  @Column({
    name: 'retired_at',
    type: 'bigint',
    nullable: true,
    transformer: epochSeconds,
  })
  retiredAt: number | null;
  /** When a retired key may be removed from the JWKS (last token expiry + margin). */
  @Column({
    name: 'remove_at',
    type: 'bigint',
    nullable: true,
    transformer: epochSeconds,
  })
  removeAt: number | null;
}

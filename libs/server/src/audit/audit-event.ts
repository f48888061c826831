import type { ClientAuthFailure } from '../errors/client-auth-failure.js';

/** Why a client authentication failed (private: goes to logs and audit sinks, never to responses). */
export type AuthFailureReason = ClientAuthFailure;

/** Lifecycle and security events. Never carries a secret, token or assertion. */
export type AuditEvent =
  | { type: 'client.registered'; clientId: string; method: string; via: 'http' | 'service' }
  | { type: 'client.updated'; clientId: string }
  | { type: 'client.deleted'; clientId: string }
  | { type: 'client.secret_rotated'; clientId: string; previousSecretValidUntil: number | null }
  | { type: 'client.previous_secret_retired'; clientId: string }
  | { type: 'client.registration_token_rotated'; clientId: string }
  | {
      type: 'client.authentication_failed';
      clientId?: string;
      method?: string;
      reason: AuthFailureReason;
      detail?: string;
    }
  | { type: 'client.jwks_key_ignored'; jwksUri: string; key: string; reason: string }
  | { type: 'registration.denied'; clientId?: string; reason: string }
  | { type: 'token.revoked'; clientId: string; jti: string }
  | { type: 'signing_key.created'; kid: string; state: string }
  | { type: 'signing_key.rotated'; activeKid: string; retiredKid?: string }
  | { type: 'request.failed'; code: string; detail: string }
  | {
      type: 'credential.expiring' | 'credential.expired';
      /** `client_secret` or `initial_access_token`. */
      credentialType: string;
      /** The secret's record id or the initial access token's id: never a value. */
      credentialId: string;
      clientId?: string;
      /** A secret's status: `previous` when in a rotation overlap. */
      status?: 'current' | 'previous';
      expiresAt: number;
      /** The lead time (seconds) of a `credential.expiring` notice. */
      leadTime?: number;
      /** The webhook message id (`webhook-id`). */
      noticeId: string;
    }
  | { type: 'webhook.delivery_failed'; noticeId: string; attempts: number; finalAttempt: boolean; reason: string };

export type AuditEventType = AuditEvent['type'];

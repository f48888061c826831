/**
 * Why a client authentication failed: a closed set of stable codes (like jose's error codes), for
 * audit events, metrics and tests. Private: they go to the audit sink and the log, never to the
 * response, which is always 401 `invalid_client` with a fixed description (docs/adr/0020-one-strategy-per-method-and-failure-codes.md).
 */
export const CLIENT_AUTH_FAILURES = [
  /** No credentials at all, or a client_id without any. */
  'credentials_missing',
  /** Basic credentials that do not decode, or `client_secret` without `client_id`. */
  'credentials_malformed',
  /** `client_assertion_type` other than jwt-bearer or jwt-spiffe, or no `client_assertion`. */
  'assertion_type_unsupported',
  /** The form's `client_id` is not the assertion's subject. */
  'client_id_mismatch',
  /** No client with this id. */
  'client_unknown',
  /** The request used another method than the one the client registered. */
  'method_mismatch',
  /** The secret matches no valid secret of the client. */
  'secret_mismatch',
  /** The assertion is longer than the configured limit. */
  'assertion_too_long',
  /** Not a compact JWS of the accepted form, or no decodable `iss`/`sub`. */
  'assertion_malformed',
  /** `alg` outside the method's family, or not the registered `token_endpoint_auth_signing_alg`. */
  'assertion_alg_not_allowed',
  /** A `typ` header other than JWT or client-authentication+jwt. */
  'assertion_typ_not_accepted',
  /** `iss` or `sub` is not the client_id. */
  'assertion_subject_not_client',
  /** `exp` missing or not a NumericDate. */
  'assertion_exp_missing',
  /** `exp` has passed (beyond the allowed skew). */
  'assertion_expired',
  /** `nbf` or `iat` invalid, or in the future. */
  'assertion_not_yet_valid',
  /** Made more than `assertionMaxLifetime` ago (by `iat`), or without `iat`, `exp` further ahead than that. */
  'assertion_lifetime_exceeded',
  /** `aud` is not the issuer identifier as its sole value. */
  'assertion_aud_not_issuer',
  /** `jti` missing, empty or longer than 256 characters. */
  'assertion_jti_invalid',
  /** The `jti` was already used by this client. */
  'jti_replayed',
  /** The assertion names a `kid` that no key of the client has (after a refetch of its jwks_uri). */
  'kid_unknown',
  /** Without a `kid`, no key of the client fits the algorithm. */
  'key_not_found',
  /** Several keys fit a header without `kid`, or several share its `kid`. */
  'key_ambiguous',
  /** The client's `jwks_uri` could not be fetched, or returned no usable key. */
  'keys_unavailable',
  /** The signature does not verify with the selected key (or with any valid HMAC secret). */
  'signature_invalid',
  /** A platform token's `iss` is no issuer the operator trusts (or a JWT-SVID's SPIFFE ID lies outside its trust domain). */
  'federated_issuer_untrusted',
  /** A platform token's `iss` and `sub` match none of the client's federated credentials. */
  'federated_credential_mismatch',
  /** A platform token's `exp − iat` (without `iat`: `exp − now`) exceeds its issuer's `max_lifetime`. */
  'federated_lifetime_exceeded',
  /** A jwt-spiffe assertion that is not a JWT-SVID: `sub` not a SPIFFE ID, or an issuer that is no SPIFFE trust domain. */
  'federated_not_spiffe',
] as const;

export type ClientAuthFailure = (typeof CLIENT_AUTH_FAILURES)[number];

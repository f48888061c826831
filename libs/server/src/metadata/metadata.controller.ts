import { Controller, Get, Header, Inject, UseFilters } from '@nestjs/common';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { ASYMMETRIC_ALGS, HMAC_ALGS } from '../shared/jose-algorithms.js';

/** The settings the metadata document is built from. */
export type MetadataSettings = Pick<
  ServerSettings,
  'issuer' | 'endpointBase' | 'registration' | 'scopes' | 'signingAlgorithm' | 'allowedAuthMethods' | 'federation'
>;

/** Builds the RFC 8414 metadata document from the resolved settings. */
export function buildMetadata(settings: MetadataSettings): Record<string, unknown> {
  const base = settings.endpointBase;
  // The operator's policy: the methods a client may choose; federated_jwt only when the operator
  // trusts an issuer: without one no client can use it (docs/adr/0022).
  const federated = settings.federation.issuers.map((i) => i.issuer);
  const methods = settings.allowedAuthMethods.filter((m) => m !== 'federated_jwt' || federated.length > 0);
  return {
    issuer: settings.issuer,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/jwks`,
    ...(settings.registration !== 'closed' ? { registration_endpoint: `${base}/register` } : {}),
    introspection_endpoint: `${base}/introspect`,
    revocation_endpoint: `${base}/revoke`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: methods,
    token_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS, ...HMAC_ALGS],
    introspection_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS, ...HMAC_ALGS],
    revocation_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS, ...HMAC_ALGS],
    ...(settings.scopes.length ? { scopes_supported: [...settings.scopes] } : {}),
    access_token_signing_alg_values_supported: [settings.signingAlgorithm],
    // Clavis's extension: the issuers whose tokens a federated_jwt client may present.
    ...(federated.length ? { federated_jwt_issuers_supported: federated } : {}),
  };
}

/** `GET /.well-known/oauth-authorization-server`. @see RFC 8414 §3 */
@Controller()
@UseFilters(OAuthErrorFilter)
export class MetadataController {
  private readonly document: Record<string, unknown>;

  constructor(@Inject(SERVER_SETTINGS) settings: MetadataSettings) {
    this.document = buildMetadata(settings);
  }

  @Get('.well-known/oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  metadata(): Record<string, unknown> {
    return this.document;
  }
}

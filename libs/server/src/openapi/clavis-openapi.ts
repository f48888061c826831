/**
 * The OpenAPI 3.1 description of Clavis's endpoints: token (client credentials), introspection,
 * revocation, dynamic client registration and its management (RFC 7591/7592), the JWK Set and the
 * authorization server metadata. Requests are form-encoded where OAuth says so, errors are the
 * RFC 6749 §5.2 object, and each operation names the client authentication it accepts.
 * Checked by an OpenAPI validator and against real responses in the e2e tests.
 */
export interface ClavisOpenApiOptions {
  /** Where the endpoints are: the issuer's origin and the route prefix, e.g. `https://auth.example.com/oauth`. */
  serverUrl: string;
  /** `info.version`; default the package's version line. */
  version?: string;
}

const FORM = 'application/x-www-form-urlencoded';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
const noStore = {
  'Cache-Control': { description: 'Always `no-store`', schema: { type: 'string', const: 'no-store' } },
};

/**
 * The security requirements of an endpoint that authenticates the client (one method per request):
 * HTTP Basic, or credentials in the form body (client_secret_post, a JWT client assertion), which
 * OpenAPI has no security scheme for: the empty alternative, with the members in the request body.
 */
const CLIENT_AUTH = [{ clientSecretBasic: [] }, {}];

/** The form members of client authentication in the body (client_secret_post and the JWT assertion methods). */
const CLIENT_AUTH_FORM = {
  client_id: { type: 'string', description: 'Required with client_secret_post; optional with an assertion' },
  client_secret: { type: 'string', description: 'client_secret_post only' },
  client_assertion_type: { type: 'string', const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
  client_assertion: { type: 'string', description: 'A JWT signed by the client (private_key_jwt, client_secret_jwt)' },
};

const oauthErrors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      response(
        (
          {
            400: 'BadRequest',
            401: 'ClientAuthFailed',
            413: 'TooLarge',
            429: 'TooManyRequests',
            503: 'Unavailable',
          } as Record<number, string>
        )[c],
      ),
    ]),
  );

/** The form of introspection (RFC 7662 §2.1) and revocation (RFC 7009 §2.1): the token, a hint, client authentication. */
const tokenParameterBody = {
  required: true,
  content: {
    [FORM]: {
      schema: {
        type: 'object',
        required: ['token'],
        properties: {
          token: { type: 'string' },
          token_type_hint: { type: 'string' },
          ...CLIENT_AUTH_FORM,
        },
      },
    },
  },
};

export function clavisOpenApiDocument(options: ClavisOpenApiOptions): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Clavis authorization server',
      version: options.version ?? '0.1',
      description:
        'OAuth 2.0 authorization server for machine-to-machine clients: client credentials grant (RFC 6749 §4.4), ' +
        'token introspection (RFC 7662), revocation (RFC 7009), dynamic client registration (RFC 7591) and its ' +
        'management (RFC 7592), JWT access tokens (RFC 9068) signed with the keys at /jwks.',
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    servers: [{ url: options.serverUrl }],
    tags: [{ name: 'token' }, { name: 'registration' }, { name: 'discovery' }],
    paths: {
      '/token': {
        post: {
          tags: ['token'],
          operationId: 'token',
          summary: 'Issue an access token (client credentials grant)',
          security: CLIENT_AUTH,
          requestBody: {
            required: true,
            content: {
              [FORM]: {
                schema: {
                  type: 'object',
                  required: ['grant_type'],
                  properties: {
                    grant_type: { type: 'string', const: 'client_credentials' },
                    scope: {
                      type: 'string',
                      description: 'Space-separated scopes, within the client’s registered scope',
                    },
                    resource: { type: 'string', format: 'uri', description: 'RFC 8707 resource indicator' },
                    ...CLIENT_AUTH_FORM,
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'The access token (RFC 6749 §5.1)',
              headers: noStore,
              content: { 'application/json': { schema: ref('TokenResponse') } },
            },
            ...oauthErrors(400, 401, 413, 429, 503),
          },
        },
      },
      '/introspect': {
        post: {
          tags: ['token'],
          operationId: 'introspect',
          summary: 'Introspect an access token issued to the calling client (RFC 7662)',
          security: CLIENT_AUTH,
          requestBody: tokenParameterBody,
          responses: {
            '200': {
              description: 'The token’s state: `{"active": false}` for any token that is not active for this client',
              headers: noStore,
              content: { 'application/json': { schema: ref('IntrospectionResponse') } },
            },
            ...oauthErrors(400, 401, 413, 429, 503),
          },
        },
      },
      '/revoke': {
        post: {
          tags: ['token'],
          operationId: 'revoke',
          summary: 'Revoke an access token issued to the calling client (RFC 7009)',
          security: CLIENT_AUTH,
          requestBody: tokenParameterBody,
          responses: {
            '200': {
              description: 'Revoked, or not a token of this client (RFC 7009 §2.2): an empty JSON object',
              headers: noStore,
              content: { 'application/json': { schema: { type: 'object', maxProperties: 0 } } },
            },
            ...oauthErrors(400, 401, 413, 429, 503),
          },
        },
      },
      '/register': {
        post: {
          tags: ['registration'],
          operationId: 'registerClient',
          summary: 'Register a client (RFC 7591)',
          description:
            'Open registration needs no token; otherwise an initial access token is required as a Bearer token ' +
            '(RFC 7591 §3), and its policy bounds the client.',
          security: [{ initialAccessToken: [] }, {}],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('ClientMetadata') } },
          },
          responses: {
            '201': {
              description: 'The registered client, its credentials and its registration access token',
              headers: noStore,
              content: { 'application/json': { schema: ref('ClientInformation') } },
            },
            '400': response('RegistrationError'),
            '401': response('BearerFailed'),
            '403': response('RegistrationDenied'),
            ...oauthErrors(413, 429, 503),
          },
        },
      },
      '/register/{client_id}': {
        parameters: [{ name: 'client_id', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          tags: ['registration'],
          operationId: 'readClient',
          summary: 'Read the client’s registration (RFC 7592 §2.1)',
          security: [{ registrationAccessToken: [] }],
          responses: {
            '200': {
              description: 'The client’s current registration',
              headers: noStore,
              content: { 'application/json': { schema: ref('ClientInformation') } },
            },
            '401': response('BearerFailed'),
            ...oauthErrors(429, 503),
          },
        },
        put: {
          tags: ['registration'],
          operationId: 'updateClient',
          summary: 'Replace the client’s metadata (RFC 7592 §2.2); rotates the registration access token',
          description:
            'The body is the complete metadata with `client_id`; `client_secret` may be sent to rotate to it or ' +
            'to confirm the current one. Server-owned members (registration_access_token, registration_client_uri, ' +
            'client_secret_expires_at, client_id_issued_at) must not be sent.',
          security: [{ registrationAccessToken: [] }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  allOf: [
                    ref('ClientMetadata'),
                    {
                      type: 'object',
                      required: ['client_id'],
                      properties: { client_id: { type: 'string' }, client_secret: { type: 'string' } },
                    },
                  ],
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'The updated client, with a new registration access token',
              headers: noStore,
              content: { 'application/json': { schema: ref('ClientInformation') } },
            },
            '400': response('RegistrationError'),
            '401': response('BearerFailed'),
            ...oauthErrors(413, 429, 503),
          },
        },
        delete: {
          tags: ['registration'],
          operationId: 'deleteClient',
          summary: 'Delete the client (RFC 7592 §2.3)',
          security: [{ registrationAccessToken: [] }],
          responses: {
            '204': { description: 'Deleted' },
            '401': response('BearerFailed'),
            ...oauthErrors(429, 503),
          },
        },
      },
      '/jwks': {
        get: {
          tags: ['discovery'],
          operationId: 'jwks',
          summary: 'The public keys that sign access tokens (RFC 7517 §5)',
          security: [],
          responses: {
            '200': {
              description: 'The JWK Set',
              content: { 'application/jwk-set+json': { schema: ref('JwkSet') } },
            },
            ...oauthErrors(503),
          },
        },
      },
      '/.well-known/oauth-authorization-server': {
        get: {
          tags: ['discovery'],
          operationId: 'metadata',
          summary: 'Authorization server metadata (RFC 8414)',
          security: [],
          responses: {
            '200': {
              description: 'The metadata document',
              content: { 'application/json': { schema: ref('ServerMetadata') } },
            },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        clientSecretBasic: {
          type: 'http',
          scheme: 'basic',
          description: 'client_secret_basic: client_id and client_secret, each form-urlencoded (RFC 6749 §2.3.1)',
        },
        initialAccessToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An initial access token issued by an operator (RFC 7591 §3)',
        },
        registrationAccessToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The registration access token returned at registration (RFC 7592 §3); single-use per update',
        },
      },
      responses: {
        BadRequest: {
          description: 'Malformed or refused request (`invalid_request`, `unsupported_grant_type`, `invalid_scope` …)',
          headers: noStore,
          content: { 'application/json': { schema: ref('OAuthError') } },
        },
        ClientAuthFailed: {
          description: '`invalid_client`: client authentication failed (the reason is audited, never returned)',
          headers: {
            ...noStore,
            'WWW-Authenticate': {
              description: 'With HTTP Basic credentials: `Basic realm="<issuer>", charset="UTF-8"`',
              schema: { type: 'string' },
            },
          },
          content: { 'application/json': { schema: ref('OAuthError') } },
        },
        BearerFailed: {
          description: '`invalid_token`: the bearer token is missing, invalid or not for this client',
          headers: {
            ...noStore,
            'WWW-Authenticate': {
              description: '`Bearer error="invalid_token"` (RFC 6750 §3)',
              schema: { type: 'string' },
            },
          },
          content: { 'application/json': { schema: ref('OAuthError') } },
        },
        RegistrationError: {
          description: 'RFC 7591 §3.2.2 error (`invalid_client_metadata`, `invalid_redirect_uri`, `invalid_request` …)',
          headers: noStore,
          content: { 'application/json': { schema: ref('OAuthError') } },
        },
        RegistrationDenied: {
          description: 'Registration is closed, or the metadata is outside the initial access token’s policy',
          headers: noStore,
          content: { 'application/json': { schema: ref('OAuthError') } },
        },
        TooLarge: {
          description: '`invalid_request`: the body exceeds the configured limit',
          headers: noStore,
          content: { 'application/json': { schema: ref('OAuthError') } },
        },
        TooManyRequests: {
          description: '`temporarily_unavailable`: rate limited',
          headers: { ...noStore, 'Retry-After': { description: 'Seconds', schema: { type: 'string' } } },
          content: { 'application/json': { schema: ref('OAuthError') } },
        },
        Unavailable: {
          description: '`temporarily_unavailable`: the database or Redis cannot be reached',
          headers: { ...noStore, 'Retry-After': { description: 'Seconds', schema: { type: 'string' } } },
          content: { 'application/json': { schema: ref('OAuthError') } },
        },
      },
      schemas: {
        OAuthError: {
          type: 'object',
          description: 'RFC 6749 §5.2 error response',
          required: ['error'],
          properties: {
            error: { type: 'string', pattern: '^[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]+$' },
            error_description: { type: 'string' },
            error_uri: { type: 'string', format: 'uri' },
          },
        },
        TokenResponse: {
          type: 'object',
          required: ['access_token', 'token_type', 'expires_in'],
          additionalProperties: false,
          properties: {
            access_token: { type: 'string', description: 'A JWT access token (RFC 9068)' },
            token_type: { type: 'string', const: 'Bearer' },
            expires_in: { type: 'integer', minimum: 1 },
            scope: { type: 'string' },
          },
        },
        IntrospectionResponse: {
          type: 'object',
          required: ['active'],
          properties: {
            active: { type: 'boolean' },
            token_type: { type: 'string' },
            scope: { type: 'string' },
            client_id: { type: 'string' },
            sub: { type: 'string' },
            aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            iss: { type: 'string' },
            exp: { type: 'integer' },
            iat: { type: 'integer' },
            nbf: { type: 'integer' },
            jti: { type: 'string' },
          },
        },
        ClientMetadata: {
          type: 'object',
          description: 'RFC 7591 §2 client metadata (members Clavis does not use are refused or ignored as documented)',
          properties: {
            client_name: { type: 'string' },
            token_endpoint_auth_method: {
              type: 'string',
              enum: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'],
            },
            token_endpoint_auth_signing_alg: { type: 'string' },
            grant_types: { type: 'array', items: { type: 'string', const: 'client_credentials' } },
            response_types: { type: 'array', maxItems: 0 },
            scope: { type: 'string' },
            resources: { type: 'array', items: { type: 'string', format: 'uri' } },
            jwks: ref('JwkSet'),
            jwks_uri: { type: 'string', format: 'uri' },
            contacts: { type: 'array', items: { type: 'string' } },
            client_uri: { type: 'string', format: 'uri' },
            software_id: { type: 'string' },
            software_version: { type: 'string' },
          },
        },
        ClientInformation: {
          allOf: [
            ref('ClientMetadata'),
            {
              type: 'object',
              required: ['client_id', 'registration_client_uri', 'token_endpoint_auth_method'],
              properties: {
                client_id: { type: 'string' },
                client_secret: { type: 'string', description: 'Returned when issued or rotated; stored hashed' },
                client_id_issued_at: { type: 'integer' },
                client_secret_expires_at: { type: 'integer', description: '0 when the secret does not expire' },
                registration_access_token: { type: 'string', description: 'Returned at registration and on update' },
                registration_client_uri: { type: 'string', format: 'uri' },
              },
            },
          ],
        },
        Jwk: {
          type: 'object',
          required: ['kty'],
          properties: {
            kty: { type: 'string' },
            kid: { type: 'string' },
            use: { type: 'string' },
            alg: { type: 'string' },
          },
          not: {
            anyOf: ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].map((m) => ({ required: [m] })),
          },
        },
        JwkSet: {
          type: 'object',
          required: ['keys'],
          properties: { keys: { type: 'array', items: ref('Jwk') } },
        },
        ServerMetadata: {
          type: 'object',
          required: ['issuer', 'token_endpoint', 'jwks_uri', 'grant_types_supported'],
          properties: {
            issuer: { type: 'string', format: 'uri' },
            token_endpoint: { type: 'string', format: 'uri' },
            jwks_uri: { type: 'string', format: 'uri' },
            registration_endpoint: { type: 'string', format: 'uri' },
            introspection_endpoint: { type: 'string', format: 'uri' },
            revocation_endpoint: { type: 'string', format: 'uri' },
            grant_types_supported: { type: 'array', items: { type: 'string' } },
            token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
            scopes_supported: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  };
}

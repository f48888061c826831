// The peer for bench/token.bench.mjs: node-oidc-provider 9 with its default in-memory adapter,
// the client_credentials grant and the same four token-endpoint client authentication methods
// as the Clavis clients of the benchmark. Started by the orchestrator (pinned with taskset);
// can be run by hand:
//
//   PORT=4100 PEER_CLIENTS=clients.json node bench/oidc-provider-peer.mjs
//
// PEER_CLIENTS is a JSON array of client metadata (client_id, token_endpoint_auth_method,
// client_secret or jwks, scope). Access tokens: RFC 9068-style JWTs signed ES256 (the closest to
// Clavis, which signs one ES256 JWT per request and stores nothing): a default resource indicator
// (the issuer, which is also Clavis's default `aud`) whose resource server asks for
// `accessTokenFormat: 'jwt'`. PEER_TOKEN_FORMAT=opaque switches to oidc-provider's default
// (opaque tokens, each stored in the memory adapter). Client assertion `jti`s go through
// oidc-provider's own ReplayDetection model, untouched (memory adapter, as shipped).
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 4100);
const issuer = process.env.ISSUER ?? `http://127.0.0.1:${port}`;
const tokenFormat = process.env.PEER_TOKEN_FORMAT === 'opaque' ? 'opaque' : 'jwt';
const clients = JSON.parse(readFileSync(process.env.PEER_CLIENTS ?? 'clients.json', 'utf8'));
const SCOPES = 'statements:read statements:write';
const TTL = 300; // Clavis's default access-token lifetime

const jwk = (type, opts, extra) => ({
  ...generateKeyPairSync(type, opts).privateKey.export({ format: 'jwk' }),
  ...extra,
});
const jwks = {
  keys: [
    jwk('ec', { namedCurve: 'P-256' }, { kid: 'es256', alg: 'ES256', use: 'sig' }),
    // oidc-provider wants an RS256 key for its (unused here) ID-token default.
    jwk('rsa', { modulusLength: 2048 }, { kid: 'rs256', alg: 'RS256', use: 'sig' }),
  ],
};

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: SCOPES,
    ...c,
  })),
  jwks,
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'],
  scopes: SCOPES.split(' '),
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    ...(tokenFormat === 'jwt'
      ? {
          resourceIndicators: {
            enabled: true,
            defaultResource: () => issuer,
            useGrantedResource: () => true,
            getResourceServerInfo: (_ctx, resource) => ({
              audience: resource,
              scope: SCOPES,
              accessTokenTTL: TTL,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'ES256' } },
            }),
          },
        }
      : {}),
  },
  ttl: { ClientCredentials: TTL },
});
provider.proxy = false;
provider.on('server_error', (_ctx, err) => process.stderr.write(`peer server_error: ${err.stack ?? err}\n`));

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    `oidc-provider peer listening on 127.0.0.1:${port}, issuer ${issuer}, ${tokenFormat} access tokens\n`,
  );
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));

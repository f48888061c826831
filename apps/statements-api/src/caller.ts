import {
  ClavisClientError,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  RegistrationClient,
  TokenClient,
  type ClientAuth,
} from '@clavis/client';

/**
 * An example caller service: gets its bank statements through `@clavis/client` and prints them.
 *
 *   ISSUER              the authorization server (default http://localhost:3000)
 *   CLIENT_ID           the client's id …
 *   CLIENT_SECRET       … and secret (from `npm run cli -- clients create …` or a registration)
 *   CLIENT_AUTH_METHOD  client_secret_basic (default), client_secret_post or client_secret_jwt
 *   INITIAL_ACCESS_TOKEN  instead of CLIENT_ID/CLIENT_SECRET: register a client_secret_basic client
 *                       first (RFC 7591) and print its credentials once, on stderr
 *   SCOPE               default statements:read
 *   RESOURCE_URL        default ${ISSUER}/statements (the demo); http://localhost:3001/statements for statements-api
 *
 * `node dist/apps/statements-api/caller.js` after `nest build statements-api`.
 */
async function main(env: Record<string, string | undefined>): Promise<void> {
  const issuer = env.ISSUER || 'http://localhost:3000';
  const resourceUrl = env.RESOURCE_URL || `${issuer.replace(/\/$/, '')}/statements`;
  const scope = env.SCOPE || 'statements:read';

  let clientId = env.CLIENT_ID;
  let clientSecret = env.CLIENT_SECRET;
  if (!clientId && env.INITIAL_ACCESS_TOKEN) {
    const registrar = new RegistrationClient({ issuer });
    const registered = await registrar.register(
      {
        client_name: 'example caller service',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        scope,
      },
      { initialAccessToken: env.INITIAL_ACCESS_TOKEN },
    );
    [clientId, clientSecret] = [registered.client_id, registered.client_secret];
    process.stderr.write(
      `Registered client ${clientId}. Keep these; they are shown only now:\n` +
        `  CLIENT_ID=${clientId}\n  CLIENT_SECRET=${clientSecret}\n  REGISTRATION_ACCESS_TOKEN=${registered.registration_access_token}\n\n`,
    );
  }
  if (!clientId || !clientSecret)
    throw new UsageError('set CLIENT_ID and CLIENT_SECRET (or INITIAL_ACCESS_TOKEN to register a client first)');

  const tokens = new TokenClient({
    issuer,
    clientId,
    auth: authFor(env.CLIENT_AUTH_METHOD ?? 'client_secret_basic', clientId, clientSecret),
    scope,
  });
  // Bearer token from the cache (fetched on first use); a 401 invalid_token gets one retry with a new token.
  const response = await tokens.fetch(resourceUrl, { headers: { accept: 'application/json' } });
  const body = await response.text();
  if (!response.ok)
    throw new UsageError(
      `GET ${resourceUrl} answered ${response.status}: ${response.headers.get('www-authenticate') ?? body}`,
    );
  process.stdout.write(`${JSON.stringify(JSON.parse(body), null, 2)}\n`);
}

function authFor(method: string, clientId: string, clientSecret: string): ClientAuth {
  switch (method) {
    case 'client_secret_basic':
      return clientSecretBasic(clientId, clientSecret);
    case 'client_secret_post':
      return clientSecretPost(clientId, clientSecret);
    case 'client_secret_jwt':
      return clientSecretJwt(clientId, clientSecret);
    default:
      throw new UsageError('CLIENT_AUTH_METHOD must be client_secret_basic, client_secret_post or client_secret_jwt');
  }
}

class UsageError extends Error {}

main(process.env).catch((e: unknown) => {
  const message =
    e instanceof ClavisClientError
      ? `${e.code}${e.status ? ` (HTTP ${e.status})` : ''}: ${e.description}`
      : e instanceof Error
        ? e.message
        : String(e);
  process.stderr.write(`caller: ${message}\n`);
  process.exit(1);
});

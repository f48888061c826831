import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientService } from '../clients/client.service.js';
import type { ClientRecord, TokenEndpointAuthMethod } from '../clients/client.record.js';
import { InitialAccessTokenService } from '../registration/initial-access-token.service.js';
import { SigningKeyService } from '../keys/signing-key.service.js';
import { CredentialUsageService } from '../usage/credential-usage.service.js';
import { KEK_HELP, runKekCommand } from './kek-commands.js';
import { hashConsolePassword } from '../console/console-password.js';

/** The host's module that imports `ClavisServerModule`: a module class, a dynamic module, or a function returning one. */
export type ClavisCliModule =
  Type<unknown> | DynamicModule | (() => Type<unknown> | DynamicModule | Promise<Type<unknown> | DynamicModule>);

const HELP = `Clavis operator CLI — clavis <command> [options] (the demo server: npm run cli -- <command>)

  clients create --method <client_secret_basic|client_secret_post|client_secret_jwt|private_key_jwt>
                 [--name N] [--scope "a b"] [--resource URI]… [--jwks-file F | --jwks-uri U] [--alg ALG]
                 [--max-scope "a b"] [--max-resource URI]… [--allowed-method M]…
  clients list
  clients show <client_id>
  clients delete <client_id>
  clients rotate-secret <client_id> [--overlap SECONDS]
  clients retire-previous-secret <client_id>
  clients rotate-registration-token <client_id>
  clients set-ceiling <client_id> [--scope "a b"] [--resource URI]… [--method M]… [--any-method]
  initial-tokens create [--expires-in SECONDS] [--uses N] [--description TEXT]
                 [--scope "a b"] [--resource URI]… [--method M]…   (policy: what clients it admits may hold)
  initial-tokens list
  initial-tokens revoke <id>
  keys list
  keys rotate [--force]
  console hash-password          (reads the password on stdin; prints the console's passwordHash)
${KEK_HELP}

Secrets and tokens are printed once, on stdout, as JSON. The same environment as the server applies.
A client may narrow its scope, resources and method by an RFC 7592 PUT, never widen them beyond the
ceiling set when it was admitted (by --max-* on create, by the initial token's policy, or by
set-ceiling); by default the ceiling is what it was created with.`;

const COMMANDS_WITH_ID = new Set([
  'clients show',
  'clients delete',
  'clients rotate-secret',
  'clients retire-previous-secret',
  'clients rotate-registration-token',
  'initial-tokens revoke',
  'clients set-ceiling',
]);

const OPTIONS = {
  method: { type: 'string', multiple: true },
  name: { type: 'string' },
  scope: { type: 'string' },
  resource: { type: 'string', multiple: true },
  'jwks-file': { type: 'string' },
  'jwks-uri': { type: 'string' },
  alg: { type: 'string' },
  overlap: { type: 'string' },
  'expires-in': { type: 'string' },
  uses: { type: 'string' },
  description: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'max-scope': { type: 'string' },
  'max-resource': { type: 'string', multiple: true },
  'allowed-method': { type: 'string', multiple: true },
  'any-method': { type: 'boolean' },
} as const;

/**
 * The word after a command that takes an id is the id, even when it begins with `-` (base64url
 * ids, which earlier builds issued, may): unless it names one of our options, it is moved behind
 * `--` so that the parser cannot read it as one.
 */
function idTakenLiterally(argv: string[]): string[] {
  const [group, command, id, ...rest] = argv;
  if (id === undefined || !id.startsWith('-') || !COMMANDS_WITH_ID.has(`${group} ${command}`) || rest.includes('--'))
    return argv;
  const option = id.replace(/^--?/, '').split('=')[0]!;
  if (id === '--' || id === '-h' || Object.hasOwn(OPTIONS, option)) return argv;
  return [group!, command!, ...rest, '--', id];
}

/**
 * The operator CLI, run around the host's own module (which imports `ClavisServerModule`): one
 * command against the host's configured database; returns the exit code (0, 1 on failure, 2 on
 * a wrong invocation). The module is started as an application context, without HTTP.
 * @example
 * // clavis.ts in the host: `node dist/clavis.js clients list`
 * import { runClavisCli } from '@clavis/server';
 * import { AppModule } from './app.module.js';
 * process.exitCode = await runClavisCli(AppModule, process.argv.slice(2));
 */
export async function runClavisCli(module: ClavisCliModule, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: idTakenLiterally(argv),
      allowPositionals: true,
      options: OPTIONS,
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  const [group, command, arg] = positionals;
  if (o.help || !group || group === 'help') {
    process.stdout.write(`${HELP}\n`);
    return o.help || group === 'help' ? 0 : 2;
  }

  if (group === 'console' && command === 'hash-password') {
    // Needs no application (nor a database): the hash for the console's passwordHash option.
    const password = (await readStdin()).replace(/\r?\n$/, '');
    try {
      process.stdout.write(`${hashConsolePassword(password)}\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 1;
    }
  }

  const app = await NestFactory.createApplicationContext(await resolveModule(module), { logger: ['error', 'warn'] });
  const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  const num = (v: string | undefined) =>
    v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : usage(`not a whole number: ${v}`);
  const need = (v: string | undefined, what: string) => v ?? usage(`missing ${what}`);
  try {
    const clients = app.get(ClientService);
    const key = `${group} ${command ?? ''}`.trim();
    if (group === 'kek') {
      const code = await runKekCommand(app, command, out);
      if (code !== undefined) return code;
    }
    switch (key) {
      case 'clients create': {
        if ((o.method?.length ?? 0) > 1) usage('--method may be given once for clients create');
        const issued = await clients.create(
          {
            tokenEndpointAuthMethod: need(o.method?.[0], '--method') as TokenEndpointAuthMethod,
            clientName: o.name ?? null,
            scope: o.scope ?? '',
            resources: o.resource ?? [],
            jwks: o['jwks-file'] ? JSON.parse(readFileSync(o['jwks-file'], 'utf8')) : null,
            jwksUri: o['jwks-uri'] ?? null,
            tokenEndpointAuthSigningAlg: o.alg ?? null,
          },
          {
            withRegistrationToken: true,
            // The ceiling the client may later widen to by itself (default: what it is created with).
            ceiling: {
              maxScope: o['max-scope'],
              maxResources: o['max-resource'],
              allowedMethods: o['allowed-method'] as TokenEndpointAuthMethod[] | undefined,
            },
          },
        );
        out({
          ...view(issued.client),
          client_secret: issued.clientSecret,
          client_secret_expires_at: issued.clientSecretExpiresAt,
          registration_access_token: issued.registrationAccessToken,
        });
        break;
      }
      case 'clients list':
        out((await clients.list()).map(view));
        break;
      case 'clients show': {
        const c = await clients.find(need(arg, '<client_id>'));
        if (!c) return fail(`no client ${arg}`);
        out({
          ...view(c),
          client_secret_expires_at: await clients.secretExpiresAt(c.clientId),
          // What the servers have flushed (each at most `usage.flushInterval` behind); never a secret value.
          credentials: (await app.get(CredentialUsageService).credentialsOf(c.clientId)) ?? [],
        });
        break;
      }
      case 'clients delete':
        if (!(await clients.delete(need(arg, '<client_id>')))) return fail(`no client ${arg}`);
        out({ deleted: arg });
        break;
      case 'clients rotate-secret': {
        const issued = await clients.rotateSecret(need(arg, '<client_id>'), num(o.overlap));
        out({
          client_id: arg,
          client_secret: issued.clientSecret,
          client_secret_expires_at: issued.clientSecretExpiresAt,
        });
        break;
      }
      case 'clients retire-previous-secret':
        out({ client_id: arg, retired: await clients.retirePreviousSecret(need(arg, '<client_id>')) });
        break;
      case 'clients rotate-registration-token':
        out({
          client_id: arg,
          registration_access_token: await clients.rotateRegistrationToken(need(arg, '<client_id>')),
        });
        break;
      case 'initial-tokens create': {
        const { token, record } = await app.get(InitialAccessTokenService).create({
          expiresIn: num(o['expires-in']),
          uses: num(o.uses),
          description: o.description,
          allowedScope: o.scope,
          allowedResources: o.resource,
          allowedMethods: o.method as TokenEndpointAuthMethod[] | undefined,
        });
        out({
          id: record.id,
          initial_access_token: token,
          expires_at: record.expiresAt,
          uses: record.usesRemaining,
          ...policyView(record),
        });
        break;
      }
      case 'clients set-ceiling': {
        if (o['any-method'] && o.method) usage('--method and --any-method exclude each other');
        if (o.scope === undefined && !o.resource && !o.method && !o['any-method'])
          usage('nothing to set: give --scope, --resource, --method or --any-method');
        const c = await clients.setCeiling(need(arg, '<client_id>'), {
          maxScope: o.scope,
          maxResources: o.resource,
          allowedMethods: o['any-method'] ? null : (o.method as TokenEndpointAuthMethod[] | undefined),
        });
        out(view(c));
        break;
      }
      case 'initial-tokens list':
        out((await app.get(InitialAccessTokenService).list()).map(({ tokenHash: _hash, ...r }) => r));
        break;
      case 'initial-tokens revoke':
        out({ id: arg, revoked: await app.get(InitialAccessTokenService).revoke(need(arg, '<id>')) });
        break;
      case 'keys list':
        out((await app.get(SigningKeyService).list()).map(({ privateJwkEncrypted: _p, ...k }) => k));
        break;
      case 'keys rotate':
        out(await app.get(SigningKeyService).rotate({ force: o.force }));
        break;
      default:
        process.stderr.write(`unknown command: ${key}\n\n${HELP}\n`);
        return 2;
    }
    return 0;
  } catch (e) {
    const err = e as { description?: string; message?: string };
    process.stderr.write(`error: ${err.description ?? err.message}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    await app.close();
  }
}

/** A module class or dynamic module as is; a factory (an arrow or async function: no prototype) called. */
async function resolveModule(module: ClavisCliModule): Promise<Type<unknown> | DynamicModule> {
  return typeof module === 'function' && module.prototype === undefined
    ? (module as () => Type<unknown> | DynamicModule)()
    : (module as Type<unknown> | DynamicModule);
}

class UsageError extends Error {}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A wrong invocation: exit code 2. */
function usage(message: string): never {
  throw new UsageError(message);
}

function fail(message: string): never {
  throw Object.assign(new Error(message), { description: message });
}

function view(c: ClientRecord) {
  return {
    client_id: c.clientId,
    client_name: c.clientName,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    token_endpoint_auth_signing_alg: c.tokenEndpointAuthSigningAlg,
    scope: c.scope,
    resources: c.resources,
    jwks_uri: c.jwksUri,
    jwks: c.jwks,
    client_id_issued_at: c.clientIdIssuedAt,
    max_scope: c.maxScope,
    max_resources: c.maxResources,
    allowed_methods: c.allowedMethods,
  };
}

/** An initial access token's policy as printed (members not set are left out). */
function policyView(r: {
  allowedScope: string | null;
  allowedResources: string[] | null;
  allowedMethods: string[] | null;
}) {
  return {
    ...(r.allowedScope !== null ? { allowed_scope: r.allowedScope } : {}),
    ...(r.allowedResources !== null ? { allowed_resources: r.allowedResources } : {}),
    ...(r.allowedMethods !== null ? { allowed_methods: r.allowedMethods } : {}),
  };
}

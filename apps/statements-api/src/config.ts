import { ClavisResourceConfigurationError, resolveResourceOptions } from '@clavis/resource';

/** What the statements API reads from the environment. */
export interface StatementsApiConfig {
  /** The authorization server whose tokens are accepted (its RFC 8414 metadata names the `jwks_uri`). */
  issuer: string;
  /** This API's identifiers, one of which a token's `aud` must hold. */
  audience: string[];
  port: number;
  host?: string;
}

/** Thrown when the environment is wrong; lists every problem. */
export class StatementsApiEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n - ${problems.join('\n - ')}`);
    this.name = 'StatementsApiEnvironmentError';
  }
}

/**
 * Maps the environment to the configuration, checking all of it at once:
 * `ISSUER` (default `http://localhost:3000`, the demo auth-server), `AUDIENCE` (default: the issuer,
 * which is what Clavis puts in `aud` when no RFC 8707 `resource` is asked for; a comma-separated list
 * accepts any member), `PORT` (default 3001), `HOST` (default: all interfaces). ISSUER and AUDIENCE
 * are checked with the resource module's own rules, so that a bad value is one clear message.
 */
export function loadConfig(env: Record<string, string | undefined>): StatementsApiConfig {
  const problems: string[] = [];
  const issuer = env.ISSUER || 'http://localhost:3000';
  const audience = env.AUDIENCE ? env.AUDIENCE.split(/[\s,]+/).filter(Boolean) : [issuer];
  try {
    resolveResourceOptions({ issuer, audience });
  } catch (e) {
    if (!(e instanceof ClavisResourceConfigurationError)) throw e;
    problems.push(...e.problems.map((p) => p.replace(/^issuer\b/, 'ISSUER').replace(/^audience\b/, 'AUDIENCE')));
  }
  let port = 3001;
  if (env.PORT) {
    port = Number(env.PORT);
    if (!/^\d+$/.test(env.PORT) || port < 1 || port > 65_535)
      problems.push('PORT must be a whole number from 1 to 65535');
  }
  if (problems.length) throw new StatementsApiEnvironmentError(problems);
  return { issuer, audience, port, host: env.HOST || undefined };
}

import type { ClientAuthFailure } from '../errors/client-auth-failure.js';
import type { RequestObservation } from './request-observation.js';

/** The endpoints whose requests are measured (the `endpoint` label). */
export type ClavisEndpoint = 'token' | 'introspect' | 'revoke' | 'register' | 'jwks' | 'metadata';

/**
 * A prom-client `Registry`, structurally (prom-client is an optional peer: its types are not
 * required to compile against @clavis/server).
 */
export interface PrometheusRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
}

/** The `metrics` option of `ClavisServerModule.forRoot`. */
export interface ClavisMetricsOptions {
  /** The registry to register on; default prom-client's global `register`. */
  registry?: PrometheusRegistry;
  /** Metric name prefix. Default `clavis_`. */
  prefix?: string;
  /** Seconds ahead in which a secret counts as expiring (`clavis_client_secrets_expiring`). Default 14 days. */
  expiringWithin?: number;
  /** Seconds during which the store sizes read for a scrape are reused. Default 30. */
  sizesMaxAge?: number;
  /** Buckets of the latency histogram, in seconds. */
  latencyBuckets?: number[];
}

/**
 * Where Clavis reports what it measures. The default records nothing; with the `metrics` option,
 * a prom-client implementation (see `createPrometheusMetrics`).
 */
export abstract class ClavisMetrics {
  /** False when nothing is recorded: the request hooks are not even installed. */
  abstract readonly enabled: boolean;
  /** A request to one of Clavis's endpoints has been answered. */
  abstract requestFinished(
    endpoint: ClavisEndpoint,
    status: number,
    seconds: number,
    observation: RequestObservation | undefined,
  ): void;
  /** A client authentication failed (the reason code of the audit event). */
  abstract clientAuthenticationFailed(reason: ClientAuthFailure): void;
  /** A client's jwks_uri was fetched. */
  abstract jwksUriFetched(outcome: 'success' | 'failure'): void;
}

/** Records nothing (metrics off). */
export class NoClavisMetrics extends ClavisMetrics {
  readonly enabled = false;
  requestFinished(): void {}
  clientAuthenticationFailed(): void {}
  jwksUriFetched(): void {}
}

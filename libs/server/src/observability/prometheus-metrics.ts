import type { ClientAuthFailure } from '../errors/client-auth-failure.js';
import { CLIENT_AUTH_FAILURES } from '../errors/client-auth-failure.js';
import { ClavisMetrics, type ClavisEndpoint, type ClavisMetricsOptions } from './clavis-metrics.js';
import type { ClavisSizes } from './clavis-stats.js';
import type { RequestObservation } from './request-observation.js';

const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type PromClient = typeof import('prom-client');

const METRIC_NAMES = [
  'token_requests_total',
  'client_authentication_failures_total',
  'http_request_duration_seconds',
  'jwks_uri_fetches_total',
  'replay_store_entries',
  'deny_list_entries',
  'client_secrets_expiring',
];

/**
 * Clavis's metrics on prom-client (an optional peer dependency, loaded only when the `metrics`
 * option is set). Counters and the histogram are updated in memory on the request path; the store
 * sizes are read when the registry is scraped, through `sizes` (cached by {@link ClavisStats}).
 */
export async function createPrometheusMetrics(
  options: ClavisMetricsOptions,
  sizes: () => Promise<ClavisSizes>,
): Promise<ClavisMetrics> {
  let prom: PromClient;
  try {
    prom = (await import('prom-client')) as PromClient;
  } catch (e) {
    throw new Error('the metrics option is set but the prom-client package cannot be loaded: npm install prom-client', {
      cause: e,
    });
  }
  return new PrometheusClavisMetrics(prom, options, sizes);
}

class PrometheusClavisMetrics extends ClavisMetrics {
  readonly enabled = true;
  private readonly tokenRequests;
  private readonly authFailures;
  private readonly latency;
  private readonly jwksFetches;

  constructor(prom: PromClient, options: ClavisMetricsOptions, sizes: () => Promise<ClavisSizes>) {
    super();
    const prefix = options.prefix ?? 'clavis_';
    const registry = (options.registry ?? prom.register) as InstanceType<PromClient['Registry']>;
    const registers = [registry];
    // An application created again in the same process (a host's tests, a restart in place) takes
    // over the metrics of the previous one instead of failing on a duplicate name.
    for (const name of METRIC_NAMES) registry.removeSingleMetric(`${prefix}${name}`);
    this.tokenRequests = new prom.Counter({
      name: `${prefix}token_requests_total`,
      help: 'Token endpoint requests, by client authentication method and outcome (success or the OAuth error code)',
      labelNames: ['method', 'outcome'] as const,
      registers,
    });
    this.authFailures = new prom.Counter({
      name: `${prefix}client_authentication_failures_total`,
      help: 'Failed client authentications (token, introspection, revocation), by reason code',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of CLIENT_AUTH_FAILURES) this.authFailures.inc({ reason }, 0);
    this.latency = latencyHistogram(prom, {
      name: `${prefix}http_request_duration_seconds`,
      help: 'Time to answer a request to a Clavis endpoint, by endpoint and status code',
      labelNames: ['endpoint', 'status'] as const,
      buckets: options.latencyBuckets ?? DEFAULT_BUCKETS,
      registers,
    });
    this.jwksFetches = new prom.Counter({
      name: `${prefix}jwks_uri_fetches_total`,
      help: "Fetches of clients' jwks_uri, by outcome",
      labelNames: ['outcome'] as const,
      registers,
    });
    for (const outcome of ['success', 'failure']) this.jwksFetches.inc({ outcome }, 0);
    const gauge = (name: string, help: string, read: (s: ClavisSizes) => number | undefined) =>
      new prom.Gauge({
        name: `${prefix}${name}`,
        help,
        registers,
        async collect() {
          const value = read(await sizes());
          if (value === undefined) this.reset();
          else this.set(value);
        },
      });
    gauge('replay_store_entries', 'Client assertion jti values remembered against replay', (s) => s.replayStoreEntries);
    gauge('deny_list_entries', 'Revoked access tokens not yet expired', (s) => s.denyListEntries);
    gauge(
      'client_secrets_expiring',
      'Client secrets (current, or previous in an overlap) that stop being accepted within the lead time',
      (s) => s.clientSecretsExpiring,
    );
  }

  requestFinished(
    endpoint: ClavisEndpoint,
    status: number,
    seconds: number,
    observation: RequestObservation | undefined,
  ): void {
    this.latency.record(endpoint, status, seconds);
    if (endpoint === 'token')
      this.tokenRequestsOf(
        observation?.method ?? 'none',
        observation?.error ?? (status < 400 ? 'success' : `http_${status}`),
      ).inc();
  }

  // The label sets seen so far, each bound once (prom-client then skips parsing the labels per
  // request); keyed by nested maps, so that no key string is built per request.
  private readonly tokenRequestChildren = new Map<string, Map<string, { inc(): void }>>();

  private tokenRequestsOf(method: string, outcome: string) {
    let byOutcome = this.tokenRequestChildren.get(method);
    if (!byOutcome) this.tokenRequestChildren.set(method, (byOutcome = new Map()));
    let child = byOutcome.get(outcome);
    if (!child) byOutcome.set(outcome, (child = this.tokenRequests.labels(method, outcome)));
    return child;
  }

  clientAuthenticationFailed(reason: ClientAuthFailure): void {
    this.authFailures.inc({ reason });
  }

  jwksUriFetched(outcome: 'success' | 'failure'): void {
    this.jwksFetches.inc({ outcome });
  }
}

/** One latency series: observations per bucket (the last one: above every bound), their sum and count. */
interface LatencySeries {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

type LatencyLabels = 'endpoint' | 'status';
type HistogramConfiguration = import('prom-client').HistogramConfiguration<LatencyLabels> & { buckets: number[] };
interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string | number>;
  value: number;
  metricName: string;
  exemplar?: null;
}
type HistogramExport = import('prom-client').MetricObjectWithValues<
  import('prom-client').MetricValueWithName<LatencyLabels>
>;

/**
 * prom-client's Histogram with a hot path of its own: `record` finds the series in two Maps and
 * the bucket in a short array, where `observe` validates and hashes the labels and converts the
 * bucket bound to a string key on every call (about 3 µs per request under load; docs/adr/0026).
 * It registers, exports and resets as any prom-client histogram: the registry reads `get()` /
 * `getForPromString()`, which this class answers from its own series.
 */
function latencyHistogram(prom: PromClient, config: HistogramConfiguration) {
  const bounds = [...config.buckets].sort((a, b) => a - b);
  const name = config.name;
  class LatencyHistogram extends prom.Histogram<LatencyLabels> {
    private readonly series = new Map<string, Map<number, LatencySeries>>();

    record(endpoint: string, status: number, seconds: number): void {
      let byStatus = this.series.get(endpoint);
      if (!byStatus) this.series.set(endpoint, (byStatus = new Map()));
      let series = byStatus.get(status);
      if (!series) byStatus.set(status, (series = { counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 }));
      let i = 0;
      while (i < bounds.length && seconds > bounds[i]!) i++;
      series.counts[i]!++;
      series.sum += seconds;
      series.count++;
    }

    override async get(): Promise<HistogramExport> {
      const exported = await this.getForPromString();
      const values = (exported.values as unknown as ExportedValue[]).map(({ labels, sharedLabels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      }));
      return { ...exported, values } as unknown as HistogramExport;
    }

    /** The shape prom-client's own histogram exports: `le` as the value's label, the series' labels shared. */
    async getForPromString(): Promise<HistogramExport> {
      const values: ExportedValue[] = [];
      // Buckets carry an exemplar slot (null), sum and count none (undefined), as prom-client's do.
      const value = (metricName: string, labels: ExportedValue['labels'], v: number, shared: ExportedValue['labels']) =>
        values.push({
          labels,
          sharedLabels: shared,
          value: v,
          metricName,
          exemplar: metricName.endsWith('_bucket') ? null : undefined,
        });
      for (const [endpoint, byStatus] of this.series)
        for (const [code, series] of byStatus) {
          const shared = { endpoint, status: String(code) };
          let cumulative = 0;
          bounds.forEach((le, i) => {
            cumulative += series.counts[i]!;
            value(`${name}_bucket`, { le }, cumulative, shared);
          });
          value(`${name}_bucket`, { le: '+Inf' }, series.count, shared);
          value(`${name}_sum`, {}, series.sum, shared);
          value(`${name}_count`, {}, series.count, shared);
        }
      return { name, help: config.help, type: 'histogram', values, aggregator: 'sum' } as unknown as HistogramExport;
    }

    override reset(): void {
      // prom-client's constructor resets before this class's fields exist.
      this.series?.clear();
    }
  }
  return new LatencyHistogram(config);
}

import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createPrometheusMetrics } from './prometheus-metrics.js';

const sizes = async () => ({});
const BUCKETS = [0.001, 0.005, 0.01, 0.5];
// Durations on both sides of each bound, exactly on a bound, and above every bound.
const SAMPLES: [string, number, number][] = [
  ['token', 200, 0.0004],
  ['token', 200, 0.001],
  ['token', 200, 0.0042],
  ['token', 200, 0.0051],
  ['token', 200, 0.7],
  ['token', 401, 0.002],
  ['jwks', 200, 0.01],
];

describe('Prometheus metrics: request latency histogram', () => {
  it('exports exactly what a prom-client Histogram fed the same observations exports', async () => {
    const ours = new Registry();
    const metrics = await createPrometheusMetrics({ registry: ours, latencyBuckets: BUCKETS }, sizes);
    const reference = new Registry();
    const histogram = new Histogram({
      name: 'clavis_http_request_duration_seconds',
      help: 'Time to answer a request to a Clavis endpoint, by endpoint and status code',
      labelNames: ['endpoint', 'status'],
      buckets: BUCKETS,
      registers: [reference],
    });
    for (const [endpoint, status, seconds] of SAMPLES) {
      metrics.requestFinished(endpoint as 'token', status, seconds, undefined);
      histogram.observe({ endpoint, status: String(status) }, seconds);
    }
    const text = await ours.getSingleMetricAsString('clavis_http_request_duration_seconds');
    expect(text).toBe(await reference.getSingleMetricAsString('clavis_http_request_duration_seconds'));
    expect(text).toContain('clavis_http_request_duration_seconds_bucket{le="0.001",endpoint="token",status="200"} 2');
    expect(text).toContain('clavis_http_request_duration_seconds_count{endpoint="token",status="200"} 5');
    const json = (await ours.getMetricsAsJSON()).find((m) => m.name === 'clavis_http_request_duration_seconds');
    const refJson = (await reference.getMetricsAsJSON())[0];
    expect(json).toEqual(refJson);
  });

  it('is emptied by the registry reset, and counts again afterwards', async () => {
    const registry = new Registry();
    const metrics = await createPrometheusMetrics({ registry, latencyBuckets: BUCKETS }, sizes);
    metrics.requestFinished('token', 200, 0.002, undefined);
    registry.resetMetrics();
    expect(await registry.getSingleMetricAsString('clavis_http_request_duration_seconds')).not.toContain('_count');
    metrics.requestFinished('token', 200, 0.002, undefined);
    expect(await registry.getSingleMetricAsString('clavis_http_request_duration_seconds')).toContain(
      'clavis_http_request_duration_seconds_count{endpoint="token",status="200"} 1',
    );
  });

  it('counts token requests by the method and outcome the request observed', async () => {
    const registry = new Registry();
    const metrics = await createPrometheusMetrics({ registry }, sizes);
    metrics.requestFinished('token', 200, 0.002, { method: 'client_secret_basic' });
    metrics.requestFinished('token', 200, 0.002, { method: 'client_secret_basic' });
    metrics.requestFinished('token', 401, 0.002, { method: 'private_key_jwt', error: 'invalid_client' });
    metrics.requestFinished('token', 503, 0.002, undefined);
    const text = await registry.getSingleMetricAsString('clavis_token_requests_total');
    expect(text).toContain('clavis_token_requests_total{method="client_secret_basic",outcome="success"} 2');
    expect(text).toContain('clavis_token_requests_total{method="private_key_jwt",outcome="invalid_client"} 1');
    expect(text).toContain('clavis_token_requests_total{method="none",outcome="http_503"} 1');
  });
});

import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ClavisEndpoint, ClavisMetrics } from './clavis-metrics.js';
import { startObservation } from './request-observation.js';

/**
 * Middleware of one Clavis endpoint: times the request from before the guards to the response's
 * end and hands status, time and what the request's observation gathered to the metrics. Installed
 * only when metrics are on.
 */
export function measureEndpoint(metrics: ClavisMetrics, endpoint: ClavisEndpoint) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const start = performance.now();
    const observation = startObservation(req);
    res.once('finish', () =>
      metrics.requestFinished(endpoint, res.statusCode, (performance.now() - start) / 1000, observation),
    );
    next();
  };
}

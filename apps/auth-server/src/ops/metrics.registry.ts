import { collectDefaultMetrics, Registry } from 'prom-client';

/** DI token of the app's prom-client registry (one per application: tests start several in a process). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** The app's registry: Node's default process metrics, and Clavis registers its own on it. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

import type { Services } from '../services.ts';
import type { Ctx } from './context.ts';

/** GET /healthz — 200 when the database answers; storage is not probed (a slow store must not flap the pod). */
export function getHealth(services: Services) {
  return async (c: Ctx) => {
    try {
      await services.repo.ping();
      return c.json({ status: 'ok' });
    } catch {
      return c.json({ status: 'unavailable' }, 503);
    }
  };
}

/** GET /metrics — Prometheus text format. */
export function getMetrics(services: Services) {
  return async (c: Ctx) => {
    const body = await services.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': services.metrics.registry.contentType });
  };
}

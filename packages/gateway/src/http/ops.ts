import type { Api, Ctx } from './env.ts';

/** GET /healthz — 200 when the database answers; storage is not probed (a slow store must not flap the pod). */
export function getHealth(api: Api) {
  return async (c: Ctx) => {
    try {
      await api.repo.ping();
      return c.json({ status: 'ok' });
    } catch {
      return c.json({ status: 'unavailable' }, 503);
    }
  };
}

/** GET /metrics — Prometheus text format. */
export function getMetrics(api: Api) {
  return async (c: Ctx) => {
    const body = await api.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': api.metrics.registry.contentType });
  };
}

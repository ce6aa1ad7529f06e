import { isDeepStrictEqual } from 'node:util';
import type { CompleteRoute } from '../../src/rules/builder.ts';
import { type RouteSpec, routeFromSpec } from '../../src/rules/spec.ts';

/**
 * A route as a JSON config file writes it, from the builder a suite declares it with: the
 * cluster's instances read their config from a file (helpers/cluster.ts). Checked on the way
 * out: the spec must build the very rule the builder does, or a suite would run on a config
 * other than the one it declares.
 */
export function routeSpec(route: CompleteRoute): RouteSpec {
  const rule = route.build();
  const spec: RouteSpec = {
    name: rule.name,
    types: [...rule.types],
    maxSize: `${rule.maxSize}B`,
    minSize: `${rule.minSize}B`,
    method: rule.method,
    metadata: { ...rule.metadata },
    lifetime: `${rule.lifetimeMs}ms`,
    ...(rule.image !== undefined && { image: { ...rule.image } }),
    ...(rule.review && {
      review: { reasons: [...rule.rejectReasons], retention: `${rule.rejectedRetentionMs}ms` },
    }),
    ...(rule.publish !== undefined && { publish: { ...rule.publish } }),
    ...(rule.multipart !== undefined && { multipart: { threshold: `${rule.multipart.threshold}B` } }),
    ...(rule.proxy && { proxy: true }),
  };
  const again = routeFromSpec(JSON.parse(JSON.stringify(spec)) as RouteSpec).build();
  if (!isDeepStrictEqual(again, rule))
    throw new Error(`route "${rule.name}": its JSON spec builds another rule than the builder`);
  return spec;
}

import type { DurationString } from '../units/duration.ts';
import type { Size } from '../units/size.ts';
import { type CompleteRoute, type ReviewOptions, route } from './builder.ts';
import type { PublishOptions } from './publish.ts';
import type { ImageLimits, Transport } from './rule.ts';

/** A route written as data (a JSON config file); turned into the same builder a TS config uses. */
export interface RouteSpec {
  name: string;
  types: string[];
  maxSize: Size;
  minSize?: Size;
  method?: Transport;
  image?: ImageLimits;
  metadata?: Record<string, string>;
  review?: boolean | ReviewOptions;
  publish?: PublishOptions;
  multipart?: boolean | { threshold?: Size };
  lifetime?: DurationString;
}

export function routeFromSpec(spec: RouteSpec): CompleteRoute {
  const [first, ...rest] = spec.types;
  if (first === undefined) throw new TypeError(`route "${spec.name}": types needs at least one type`);
  let b: CompleteRoute = route(spec.name)
    .types(first, ...rest)
    .maxSize(spec.maxSize);
  if (spec.minSize !== undefined) b = b.minSize(spec.minSize);
  if (spec.method !== undefined) b = b.method(spec.method);
  if (spec.image !== undefined) b = b.image(spec.image);
  if (spec.metadata !== undefined) b = b.metadata(spec.metadata);
  if (spec.review !== undefined) b = b.review(spec.review);
  if (spec.publish !== undefined) b = b.publish(spec.publish);
  if (spec.multipart === true) b = b.multipart();
  else if (typeof spec.multipart === 'object') b = b.multipart(spec.multipart);
  if (spec.lifetime !== undefined) b = b.lifetime(spec.lifetime);
  return b;
}

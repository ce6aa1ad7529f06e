import { type DurationString, parseDuration } from '../units/duration.ts';
import { parseSize, type Size } from '../units/size.ts';
import { isTypePattern } from './mime.ts';
import { type PublishOptions, publishRule } from './publish.ts';
import type { ImageLimits, MultipartRule, RouteRule, Transport } from './rule.ts';

/**
 * A typed, immutable route builder (after uploadthing's upload-builder): every step returns a new
 * frozen builder, so a shared base route can be specialised without being changed. The type
 * parameter records whether `types` and `maxSize` were given; `build()` only type-checks on a
 * builder that has both, and throws at start-up if called on one that has not (from JS).
 *
 *   route('logo').types('image/png', 'image/jpeg').maxSize('20MB').image({ maxWidth: 4096 }).review()
 */

interface Steps {
  types: boolean;
  maxSize: boolean;
}

type Complete = { types: true; maxSize: true };

interface Draft {
  name: string;
  types?: readonly string[];
  minSize: number;
  maxSize?: number;
  method: Transport;
  image?: ImageLimits;
  metadata: Readonly<Record<string, string>>;
  review: boolean;
  rejectReasons: readonly string[];
  rejectedRetentionMs: number;
  publish?: PublishOptions;
  multipart?: MultipartRule;
  lifetimeMs: number;
}

/** How a route's review goes: the reasons a reviewer may reject with, and how long rejects stay. */
export interface ReviewOptions {
  /** Reason codes (`a-z0-9_`, up to 32 characters); default DEFAULT_REJECT_REASONS. */
  reasons?: readonly string[];
  /** How long a rejected file is kept before it is deleted; default "7d", "0s" deletes at once. */
  retention?: DurationString;
}

export const DEFAULT_REJECT_REASONS = Object.freeze([
  'inappropriate',
  'low_quality',
  'wrong_subject',
  'other',
]);
export const DEFAULT_REJECTED_RETENTION_MS = 7 * 86_400_000;
const REASON = /^[a-z][a-z0-9_]{0,31}$/;

export interface RouteBuilder<S extends Steps> {
  /** Type-only: which required steps were taken (never set at run time). */
  readonly '~steps'?: S;
  readonly name: string;
  /** Allowed media types: exact (`image/png`) or a whole top-level type (`image/*`). */
  types(...patterns: [string, ...string[]]): RouteBuilder<{ types: true; maxSize: S['maxSize'] }>;
  maxSize(size: Size): RouteBuilder<{ types: S['types']; maxSize: true }>;
  /** Default 1 byte: an empty file is never a valid upload. */
  minSize(size: Size): RouteBuilder<S>;
  /** The transport offered by default: `post` (form + policy, the default) or `put` (signed URL). */
  method(method: Transport): RouteBuilder<S>;
  /** Pixel limits checked at complete; every allowed type must then be an `image/` type. */
  image(limits: ImageLimits): RouteBuilder<S>;
  /** Fixed `x-amz-meta-*` pairs the route requires on every object. */
  metadata(pairs: Record<string, string>): RouteBuilder<S>;
  /** Verified files wait for a reviewer; options name the reject reasons and the retention. */
  review(on?: boolean | ReviewOptions): RouteBuilder<S>;
  /**
   * Publish files: on approval with review (where it is the default), at once without. `key` is a
   * template of `{route}`, `{userId}`, `{uploadId}`; `keepOne` keeps one current file per user.
   */
  publish(options?: PublishOptions): RouteBuilder<S>;
  /**
   * Allow multipart grants (files up to 5 TiB in up to 10,000 parts), chosen by default above
   * `threshold` (default "64MiB"); without this, maxSize is at most 5 GiB.
   */
  multipart(options?: { threshold?: Size }): RouteBuilder<S>;
  /** Grant lifetime, "60s".."24h"; default "10m". */
  lifetime(duration: DurationString): RouteBuilder<S>;
  build(this: RouteBuilder<Complete>): RouteRule;
}

/** A builder with types and maxSize given: what `defineRoutes` and the config accept. */
export type CompleteRoute = RouteBuilder<Complete>;

export const DEFAULT_LIFETIME_MS = 10 * 60_000;
/**
 * At least 60 s: a grant's clock starts on our server, the browser's clock may be off, and S3
 * allows 15 min of skew for header auth but judges a presigned URL's expiry on its own clock.
 */
export const MIN_LIFETIME_MS = 60_000;
/** At most 24 h: a grant is a bearer credential for storage; a long one widens replay. */
export const MAX_LIFETIME_MS = 24 * 3600_000;
/** S3's limit for one PUT or POST (5 GiB); larger files need multipart. */
export const MAX_SINGLE_UPLOAD = 5 * 2 ** 30;
/** S3's limit for one object, uploaded in parts (5 TiB). */
export const MAX_MULTIPART_UPLOAD = 5 * 2 ** 40;
export const DEFAULT_MULTIPART_THRESHOLD = 64 * 2 ** 20;

const ROUTE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Lowercase header token; sent as `x-amz-meta-{key}`. */
const META_KEY = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Printable ASCII: metadata travels as HTTP headers (S3 stores user metadata as US-ASCII). */
const META_VALUE = /^[\x20-\x7e]{0,256}$/;
/** Keys the gateway sets itself on every grant. */
const RESERVED_META = new Set(['upload-id', 'user-id']);

export function route(name: string): RouteBuilder<{ types: false; maxSize: false }> {
  if (!ROUTE_NAME.test(name)) {
    throw new TypeError(`route name "${name}": use 1–64 of a–z 0–9 _ -, starting with a letter or digit`);
  }
  return make({
    name,
    minSize: 1,
    method: 'post',
    metadata: Object.freeze({}),
    review: false,
    rejectReasons: DEFAULT_REJECT_REASONS,
    rejectedRetentionMs: DEFAULT_REJECTED_RETENTION_MS,
    lifetimeMs: DEFAULT_LIFETIME_MS,
  });
}

// The builder's type parameter only exists at compile time; at run time every builder is the same.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyBuilder = RouteBuilder<any>;

function make(d: Draft): AnyBuilder {
  const def = Object.freeze({ ...d });
  const next = (patch: Partial<Draft>): AnyBuilder => make({ ...def, ...patch });
  const where = `route "${def.name}"`;
  return Object.freeze({
    name: def.name,
    types(...patterns: string[]) {
      if (patterns.length === 0) throw new TypeError(`${where}: types() needs at least one type`);
      const lower = patterns.map((p) => p.trim().toLowerCase());
      for (const p of lower) {
        if (!isTypePattern(p)) throw new TypeError(`${where}: "${p}" is not a media type or "type/*"`);
      }
      return next({ types: Object.freeze([...new Set(lower)]) });
    },
    maxSize(size: Size) {
      const n = parseSize(size);
      if (n < 1) throw new RangeError(`${where}: maxSize must be at least 1 byte`);
      if (n > MAX_MULTIPART_UPLOAD)
        throw new RangeError(`${where}: maxSize is at most 5 TiB (S3's object limit)`);
      return next({ maxSize: n });
    },
    minSize(size: Size) {
      return next({ minSize: parseSize(size) });
    },
    method(method: Transport) {
      if (method !== 'post' && method !== 'put') throw new TypeError(`${where}: method is "post" or "put"`);
      return next({ method });
    },
    image(limits: ImageLimits) {
      const { maxWidth, maxHeight, ...rest } = limits;
      if (Object.keys(rest).length > 0)
        throw new TypeError(`${where}: unknown image limit ${Object.keys(rest)}`);
      for (const [k, v] of Object.entries({ maxWidth, maxHeight })) {
        if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) {
          throw new RangeError(`${where}: image ${k} must be a positive whole number of pixels`);
        }
      }
      return next({ image: Object.freeze({ maxWidth, maxHeight }) });
    },
    metadata(pairs: Record<string, string>) {
      const out: Record<string, string> = { ...def.metadata };
      for (const [rawKey, value] of Object.entries(pairs)) {
        const key = rawKey.toLowerCase();
        if (!META_KEY.test(key) || RESERVED_META.has(key)) {
          throw new TypeError(`${where}: metadata key "${rawKey}" is invalid or reserved`);
        }
        if (typeof value !== 'string' || !META_VALUE.test(value)) {
          throw new TypeError(`${where}: metadata "${key}" must be printable ASCII, at most 256 characters`);
        }
        out[key] = value;
      }
      return next({ metadata: Object.freeze(out) });
    },
    review(on: boolean | ReviewOptions = true) {
      if (typeof on === 'boolean') return next({ review: on });
      const { reasons, retention, ...rest } = on;
      if (Object.keys(rest).length > 0)
        throw new TypeError(`${where}: unknown review option ${Object.keys(rest)}`);
      const patch: Partial<Draft> = { review: true };
      if (reasons !== undefined) {
        if (reasons.length === 0) throw new TypeError(`${where}: review reasons needs at least one reason`);
        for (const r of reasons) {
          if (typeof r !== 'string' || !REASON.test(r)) {
            throw new TypeError(
              `${where}: review reason "${r}": use 1–32 of a–z 0–9 _, starting with a letter`,
            );
          }
        }
        patch.rejectReasons = Object.freeze([...new Set(reasons)]);
      }
      if (retention !== undefined) {
        const ms = parseDuration(retention);
        if (ms > 365 * 86_400_000) throw new RangeError(`${where}: review retention must be at most 365d`);
        patch.rejectedRetentionMs = ms;
      }
      return next(patch);
    },
    multipart(options: { threshold?: Size } = {}) {
      const { threshold, ...rest } = options;
      if (Object.keys(rest).length > 0)
        throw new TypeError(`${where}: unknown multipart option ${Object.keys(rest)}`);
      const t = threshold === undefined ? DEFAULT_MULTIPART_THRESHOLD : parseSize(threshold);
      if (t < 5 * 2 ** 20 || t > MAX_SINGLE_UPLOAD) {
        throw new RangeError(`${where}: multipart threshold must be between 5 MiB and 5 GiB`);
      }
      return next({ multipart: Object.freeze({ threshold: t }) });
    },
    publish(options: PublishOptions = {}) {
      publishRule(where, options); // refuse a bad template where it is written
      return next({ publish: Object.freeze({ ...options }) });
    },
    lifetime(duration: DurationString) {
      const ms = parseDuration(duration);
      if (ms < MIN_LIFETIME_MS || ms > MAX_LIFETIME_MS) {
        throw new RangeError(`${where}: lifetime must be between 60s and 24h (got "${duration}")`);
      }
      return next({ lifetimeMs: ms });
    },
    build(): RouteRule {
      if (def.types === undefined) throw new TypeError(`${where}: types() is required`);
      if (def.maxSize === undefined) throw new TypeError(`${where}: maxSize() is required`);
      if (def.minSize > def.maxSize) throw new RangeError(`${where}: minSize is above maxSize`);
      if (def.maxSize > MAX_SINGLE_UPLOAD && def.multipart === undefined) {
        throw new RangeError(`${where}: maxSize above 5 GiB needs multipart()`);
      }
      if (def.image !== undefined && !def.types.every((t) => t.startsWith('image/'))) {
        throw new TypeError(`${where}: image() limits need every allowed type to be an image/ type`);
      }
      return Object.freeze({
        name: def.name,
        types: def.types,
        minSize: def.minSize,
        maxSize: def.maxSize,
        method: def.method,
        image: def.image,
        metadata: def.metadata,
        review: def.review,
        rejectReasons: def.rejectReasons,
        rejectedRetentionMs: def.rejectedRetentionMs,
        // Review routes always publish what is approved; others only when they ask to.
        publish: def.review || def.publish !== undefined ? publishRule(where, def.publish) : undefined,
        multipart: def.multipart,
        lifetimeMs: def.lifetimeMs,
      });
    },
  });
}

/** Routes by name, refusing two routes with the same name. */
export function defineRoutes(...routes: CompleteRoute[]): ReadonlyMap<string, RouteRule> {
  const map = new Map<string, RouteRule>();
  for (const r of routes) {
    const rule = r.build();
    if (map.has(rule.name)) throw new TypeError(`route "${rule.name}" is defined twice`);
    map.set(rule.name, rule);
  }
  return map;
}

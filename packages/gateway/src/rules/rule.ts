/** A route's rule as data: what the builder produces and everything else reads. Frozen. */
import type { PublishRule } from './publish.ts';

export type Transport = 'post' | 'put';

export interface MultipartRule {
  /** Declared sizes above this get a multipart grant unless the client asks for another method. */
  readonly threshold: number;
}

export interface ImageLimits {
  readonly maxWidth?: number;
  readonly maxHeight?: number;
}

export interface RouteRule {
  readonly name: string;
  /** Lowercase patterns: exact (`image/png`) or whole top-level type (`image/*`). */
  readonly types: readonly string[];
  /** Bytes, inclusive. */
  readonly minSize: number;
  /** Bytes, inclusive. */
  readonly maxSize: number;
  /** Transport offered when the client does not ask for one. */
  readonly method: Transport;
  readonly image: ImageLimits | undefined;
  /** Fixed `x-amz-meta-{key}: value` pairs every object of this route must carry. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Whether verified files wait for a reviewer (end in `pending_review`, not `verified`). */
  readonly review: boolean;
  /** The reason codes a reviewer may reject with: a closed list per route. */
  readonly rejectReasons: readonly string[];
  /** How long a file rejected in review stays (frozen, unpublished) before it is deleted, ms. */
  readonly rejectedRetentionMs: number;
  /**
   * Where files are published: on approval (review routes, always, by default under
   * `published/{route}/{userId}/{uploadId}`), or as soon as verified (routes without review that
   * declare it). undefined: not published.
   */
  readonly publish: PublishRule | undefined;
  /**
   * Multipart grants: offered when asked for, and chosen by default for declared sizes above the
   * threshold (bytes). undefined: this route takes single PUT/POST uploads only (≤ 5 GiB).
   */
  readonly multipart: MultipartRule | undefined;
  /** How long a grant (its signed URL or policy) is valid, ms. */
  readonly lifetimeMs: number;
}

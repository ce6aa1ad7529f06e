import type { PostCondition } from '@chute/sigv4';

// The condition shapes are defined once, in @chute/sigv4 (the signer writes them too).
export type { MatchCondition, ObjectCondition, RangeCondition } from '@chute/sigv4';
export type Condition = PostCondition;

/** A POST policy as S3 reads it (after its signature is verified and its base64 decoded). */

export interface PostPolicy {
  /** ISO 8601 UTC, e.g. '2026-11-21T13:00:00.000Z'. */
  expiration: string;
  conditions: Condition[];
}

/** Form fields as submitted, name → value, names as sent (rules compare them case-insensitively). */
export type FormFields = Record<string, string>;

export interface EvaluateOptions {
  /** Server time, epoch ms (defaults to Date.now()). */
  now?: number;
  /**
   * The `filename` parameter of the `file` part, for `${filename}`. Leave it undefined when the
   * part had no `filename` parameter: S3 then keeps `${filename}` literally.
   */
  filename?: string;
}

/** Inclusive byte bounds from the policy's `content-length-range` condition(s). */
export interface LengthRange {
  min: number;
  max: number;
}

/** What the form check decides before the file's bytes arrive. */
export interface FormDecision {
  /** The object key, with `${filename}` replaced. */
  key: string;
  /** The submitted fields with `${filename}` replaced, as they were checked. */
  fields: FormFields;
  /** Absent when the policy has no `content-length-range`. */
  lengthRange?: LengthRange;
}

/** What a successful evaluation decides. */
export interface Decision {
  /** The object key, with `${filename}` replaced. */
  key: string;
  /** The submitted fields with `${filename}` replaced, as they were checked. */
  fields: FormFields;
}

/** A POST policy as S3 reads it (after its signature is verified and its base64 decoded). */

/** { "field": "value" } — exactly one property; same as ["eq", "$field", "value"]. */
export type ObjectCondition = Record<string, string>;
export type MatchCondition = ['eq' | 'starts-with', string, string];
export type RangeCondition = ['content-length-range', number | string, number | string];
export type Condition = ObjectCondition | MatchCondition | RangeCondition;

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
  /** The uploaded file's name from the `file` part, for `${filename}` in `key`. */
  filename?: string;
}

/** What a successful evaluation decides. */
export interface Decision {
  /** The object key, with `${filename}` replaced. */
  key: string;
}

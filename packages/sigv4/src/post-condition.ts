/**
 * A POST policy condition, shaped as S3 reads it ("Creating a POST policy" › "Condition
 * matching"). The one definition: the signer writes these, @chute/policy parses and evaluates
 * them, the gateway builds them from a route's rule.
 */

/** `{ "field": "value" }` — exactly one property; the same as `["eq", "$field", "value"]`. */
export type ObjectCondition = Record<string, string>;
/** The operator is stored lowercased; the field keeps the policy's spelling (S3 echoes it so). */
export type MatchCondition = ['eq' | 'starts-with', string, string];
/** Bounds as written: a JSON integer, or a string that S3 reads as one when it can. */
export type RangeCondition = ['content-length-range', number | string, number | string];
export type PostCondition = ObjectCondition | MatchCondition | RangeCondition;

import type { BucketInfo } from '../backend/types.ts';
import type { CorsRule } from './config.ts';

/** Where a bucket's CORS rules live: its `settings.cors`, persisted with the bucket. */
export const CORS_SETTING = 'cors';

/** The bucket's CORS rules, or undefined when it has no configuration. */
export function bucketCorsRules(bucket: BucketInfo | undefined): CorsRule[] | undefined {
  const rules = bucket?.settings[CORS_SETTING];
  return Array.isArray(rules) ? (rules as CorsRule[]) : undefined;
}

import type { Condition } from './types.ts';

/**
 * A condition as S3 prints it in "Policy Condition failed: …": a list of JSON values joined by
 * ", ", a simple condition as the `eq` it stands for, the field in the policy's own spelling
 * and quotes inside values escaped. Captured from S3: `["eq", "$key", "/2025/0267$$Copy.csv"]`
 * for `{"key": …}`, `["starts-with", "$Content-Length", ""]`,
 * `["eq", "$Content-Disposition", "filename=\"test.png\""]`, `["content-length-range", "test", "10"]`.
 */
export function describeCondition(condition: Condition): string {
  const items = Array.isArray(condition) ? condition : simpleAsEq(condition);
  return `[${items.map((item) => JSON.stringify(item)).join(', ')}]`;
}

function simpleAsEq(condition: Record<string, string>): string[] {
  const [name, value] = Object.entries(condition)[0]!;
  return ['eq', `$${name}`, value];
}

import { allowsStartsWith } from './field-rules.ts';
import type { Condition } from './types.ts';

/** A field's submitted value by lowercased name; undefined when the form did not send it. */
export type Lookup = (field: string) => string | undefined;

/**
 * The lowercased field a condition names: the property of `{"acl": …}`, or the `$name` of a
 * list condition. Undefined for `content-length-range`, and for a name without `$`, which names
 * no field (S3 failed `["eq", "success_action_redirect", …]` as a condition).
 */
export function conditionField(condition: Condition): string | undefined {
  if (!Array.isArray(condition)) return Object.keys(condition)[0]!.toLowerCase();
  if (condition[0] === 'content-length-range') return undefined;
  const ref = condition[1];
  return ref.length > 1 && ref.startsWith('$') ? ref.slice(1).toLowerCase() : undefined;
}

/**
 * Whether an `eq`/`starts-with`/simple condition holds. Values compare case-sensitively (S3
 * failed `HTTP://…` against `http://…`). A field the form did not send fails, even
 * `["starts-with", "$f", ""]`: S3 failed exactly that for an absent Content-Type and
 * Content-Length field.
 */
export function matchHolds(condition: Condition, lookup: Lookup): boolean {
  const field = conditionField(condition);
  if (field === undefined) return false;
  const actual = lookup(field);
  if (actual === undefined) return false;
  const [op, expected] = Array.isArray(condition)
    ? [condition[0], String(condition[2])]
    : ['eq', Object.values(condition)[0]!];
  if (op === 'eq') return actual === expected;
  if (op !== 'starts-with' || !allowsStartsWith(field)) return false;
  // "Content-Types values for a starts-with condition that include commas are interpreted as
  // lists. Each value in the list must meet the condition for the whole condition to pass."
  // "Data elements other than Content-Type are treated as strings, regardless of the presence
  // of commas."
  if (field === 'content-type') {
    return actual.split(',').every((item) => item.replace(/^[ \t]+/, '').startsWith(expected));
  }
  // "To configure the POST policy to allow any content within a form field, use starts-with
  // with an empty value ("")."
  return actual.startsWith(expected);
}

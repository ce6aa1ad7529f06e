import { S3Error } from '@chute/errors';
import { normalizeEscapes } from './escapes.ts';
import { parseExpiration } from './expiration.ts';
import type { Condition, PostPolicy } from './types.ts';

/**
 * Reads a decoded POST policy document the way S3 does, refusing every shape S3 refuses with
 * `InvalidPolicyDocument` and its "Invalid Policy: …" message. The signature over the base64
 * text must be verified before this runs ("verify first, parse second").
 *
 * Sources of the messages: S3 captures in issue trackers for "Invalid JSON.", "Unexpected: …",
 * "Invalid 'expiration' value: …", the two Simple-Condition texts and "missing operation
 * identifier"; versitygw's S3-modelled texts (and RGW's phrases) for the rest.
 */
export function parsePolicy(json: string): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(normalizeEscapes(json), markFractions);
  } catch {
    throw invalid('Invalid JSON.');
  }
  if (!isObject(doc)) throw invalid('Invalid JSON.');

  // S3 answered an IAM-style document with "Unexpected: 'statement'" before asking for
  // expiration or conditions; the names are case-sensitive ("EXPIRATION" is refused).
  const unexpected = Object.keys(doc).find((k) => k !== 'expiration' && k !== 'conditions');
  if (unexpected !== undefined) throw invalid(`Unexpected: '${unexpected.toLowerCase()}'`);

  // "The POST policy always contains the expiration and conditions elements."
  if (!('expiration' in doc)) throw invalid('Policy missing expiration.');
  const expiration = doc['expiration'];
  if (typeof expiration !== 'string' || parseExpiration(expiration) === undefined) {
    const shown = typeof expiration === 'string' ? expiration : JSON.stringify(expiration);
    throw invalid(`Invalid 'expiration' value: '${shown}'`);
  }

  if (!('conditions' in doc)) throw invalid('Policy missing conditions.');
  const conditions = doc['conditions'];
  if (!Array.isArray(conditions)) throw invalid("Invalid 'conditions' value: must be a List.");

  return { expiration, conditions: conditions.map(parseCondition) };
}

function parseCondition(raw: unknown): Condition {
  if (raw === null) throw invalid('Invalid JSON.');
  if (Array.isArray(raw)) return parseListCondition(raw);
  if (isObject(raw)) return parseSimpleCondition(raw);
  throw invalid('Invalid condition test: must be a List or Object.');
}

/** `{"acl": "public-read"}`: "an alternate way" to write `["eq", "$acl", "public-read"]`. */
function parseSimpleCondition(raw: Record<string, unknown>): Condition {
  const entries = Object.entries(raw);
  if (entries.length !== 1) {
    throw invalid('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
  }
  const [name, value] = entries[0]!;
  // Captured: `{"success_action_redirect": null}` → "Invalid JSON."; a number → "value must be a string."
  if (value === null) throw invalid('Invalid JSON.');
  if (typeof value !== 'string') throw invalid('Invalid Simple-Condition: value must be a string.');
  return { [name]: value };
}

function parseListCondition(raw: unknown[]): Condition {
  const op = raw[0];
  if (typeof op !== 'string') throw invalid('Invalid Condition: missing operation identifier.');
  const operator = op.toLowerCase();
  if (operator !== 'eq' && operator !== 'starts-with' && operator !== 'content-length-range') {
    throw invalid(`Invalid Condition: unknown operation '${op}'.`);
  }
  if (raw.length !== 3) throw invalid(`Invalid ${op}: wrong number of arguments.`);
  const [, a, b] = raw;

  if (operator === 'content-length-range') {
    return ['content-length-range', parseBound(a), parseBound(b)];
  }
  if (typeof a !== 'string' || typeof b !== 'string') throw invalid('Invalid JSON.');
  return [operator, a, b];
}

/**
 * A size bound is a whole, non-negative JSON number, or a string. S3 answered `512.0` with
 * "Invalid JSON."; s3-tests expects `-1` refused with 400. Strings are kept: S3 read `"5"` as 5
 * and failed `"test"` as a condition (403), not as a malformed policy.
 */
function parseBound(v: unknown): number | string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw invalid('Invalid JSON.');
}

/**
 * `JSON.parse` reads `512.0` and `1e3` as whole numbers; S3 refused `512.0` as a size. Keep the
 * fact that a number was not written as a whole one (Node 24's reviver sees the source text).
 */
const NOT_WHOLE = Symbol('not a whole number');
const WHOLE = /^-?(0|[1-9]\d*)$/;

function markFractions(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  return WHOLE.test(context.source) ? value : NOT_WHOLE;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(reason: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${reason}`);
}

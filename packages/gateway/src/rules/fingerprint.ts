import { createHash } from 'node:crypto';
import type { RouteRule } from './rule.ts';

const cache = new WeakMap<RouteRule, string>();

/**
 * What a grant records of the rule it was signed under: a hash of the rule's canonical JSON
 * (keys sorted at every level), 128 bits as hex. Equal rules hash equal whatever order their
 * builder or config listed the keys in, so restarting with an unchanged config adds no new rule.
 */
export function ruleFingerprint(rule: RouteRule): string {
  let hash = cache.get(rule);
  if (hash === undefined) {
    hash = createHash('sha256').update(canonicalRule(rule)).digest('hex').slice(0, 32);
    cache.set(rule, hash);
  }
  return hash;
}

/** The rule as stored: canonical JSON, which `parseRule` reads back. */
export function canonicalRule(rule: RouteRule): string {
  return JSON.stringify(sortKeys(rule));
}

/** A rule stored by `canonicalRule`, frozen again. */
export function parseRule(json: string): RouteRule {
  return deepFreeze(JSON.parse(json) as RouteRule);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined) out[k] = sortKeys(x);
  }
  return out;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

import { canonicalRule, parseRule, ruleFingerprint } from '../rules/fingerprint.ts';
import type { RouteRule } from '../rules/rule.ts';
import type { Driver } from './driver.ts';

/**
 * The rules grants were signed under, by fingerprint. complete and review judge an upload by the
 * rule its grant recorded, never by the live config: a config changed or a route removed between
 * grant and complete changes nothing for grants already issued. Rows are only ever added.
 */
export class FrozenRules {
  readonly #db: Driver;
  readonly #clock: () => number;
  /** Rules are immutable, so a fingerprint once read never needs reading again. */
  readonly #cache = new Map<string, RouteRule>();

  constructor(db: Driver, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Records the config's rules (at start), so every grant's fingerprint has its rule stored. */
  async save(rules: Iterable<RouteRule>): Promise<void> {
    const now = this.#clock();
    for (const rule of rules) {
      const hash = ruleFingerprint(rule);
      await this.#db.run(
        'INSERT INTO rules (hash, route, rule, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING',
        [hash, rule.name, canonicalRule(rule), now],
      );
      this.#cache.set(hash, rule);
    }
  }

  async get(hash: string): Promise<RouteRule | undefined> {
    const cached = this.#cache.get(hash);
    if (cached !== undefined) return cached;
    const [row] = await this.#db.all<{ rule: string }>('SELECT rule FROM rules WHERE hash = ?', [hash]);
    if (row === undefined) return undefined;
    const rule = parseRule(row.rule);
    this.#cache.set(hash, rule);
    return rule;
  }
}

import { AuditTrail } from './audit.ts';
import { Deliveries } from './deliveries.ts';
import type { Driver } from './driver.ts';
import { Grants } from './grants.ts';
import { Locks } from './locks.ts';
import { migrate } from './migrate.ts';
import { type OpenOptions, openDriver } from './open.ts';
import { Outbox } from './outbox.ts';
import { FrozenRules } from './rules.ts';
import { Uploads } from './uploads.ts';
import { usageSource } from './usage.ts';

export interface RepoOptions extends OpenOptions {
  /** Epoch ms; injected so tests can move time. */
  clock?: () => number;
}

/**
 * The gateway's database, one part per job, over either engine (the differences live in the
 * Driver). Open with `Repo.open(url)`, which also brings the schema up to date.
 */
export class Repo {
  readonly #db: Driver;
  /** Grants, with their quota reservation (group-committed). */
  readonly grants: Grants;
  /** Reading uploads and moving them through their states. */
  readonly uploads: Uploads;
  /** Events, written with the state changes they report. */
  readonly outbox: Outbox;
  /** Each event owed to each webhook endpoint, and the endpoints that asked to be left alone. */
  readonly deliveries: Deliveries;
  /** Jobs that run in one instance at a time. */
  readonly locks: Locks;
  /** The rule each grant was signed under. */
  readonly rules: FrozenRules;
  /** Every state change of every upload, append-only. */
  readonly audit: AuditTrail;

  private constructor(db: Driver, clock: () => number) {
    this.#db = db;
    // One usage source for both: transitions release quota the grants reserved.
    const usage = usageSource(db);
    this.grants = new Grants(db, usage, clock);
    this.outbox = new Outbox(db, clock);
    this.uploads = new Uploads(db, usage, clock, this.outbox);
    this.deliveries = new Deliveries(db, clock);
    this.locks = new Locks(db);
    this.rules = new FrozenRules(db, clock);
    this.audit = new AuditTrail(db);
  }

  static async open(url: string, options: RepoOptions = {}): Promise<Repo> {
    const db = await openDriver(url, options);
    const clock = options.clock ?? Date.now;
    try {
      await migrate(db, undefined, clock());
    } catch (e) {
      await db.close();
      throw e;
    }
    return new Repo(db, clock);
  }

  /** A trivial query: whether the database answers (health checks). */
  async ping(): Promise<void> {
    await this.#db.all('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

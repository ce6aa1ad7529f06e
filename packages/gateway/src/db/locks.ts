import type { Driver } from './driver.ts';

/** The jobs that run in one instance at a time; a closed list, so a name cannot be misspelt. */
export type LockName = 'sweeper' | 'dispatcher';

/** Work that one instance at a time does, however many run on the same database. */
export class Locks {
  readonly #db: Driver;

  constructor(db: Driver) {
    this.#db = db;
  }

  /**
   * Runs `fn` only in the one instance that holds the named lock, for fn's duration; resolves to
   * false without running it when another instance holds it. The lock belongs to a transaction
   * (Driver.exclusive), so it is released even if this process dies, as its connection closes.
   */
  exclusive(name: LockName, fn: () => Promise<void>): Promise<boolean> {
    return this.#db.exclusive(name, fn);
  }
}

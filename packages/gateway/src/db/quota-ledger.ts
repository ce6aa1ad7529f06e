import { DAY, MINUTE, type Usage } from './quota.ts';
import type { UploadState } from './types.ts';

/** What the quota reads of one upload: the columns of the covering index `uploads_user_quota`. */
export interface LedgerRow {
  id: string;
  state: UploadState;
  createdAt: number;
  expiresAt: number;
  declaredSize: number;
}

/** Users whose last day is kept; the least recently used one is dropped past this (and reloaded). */
const MAX_USERS = 10_000;

/** States whose bytes no longer count against the day's quota (their file is gone or going). */
const released = (state: UploadState) => state === 'rejected' || state === 'expired' || state === 'withdrawn';

/**
 * One user's last 24 h of grants, oldest first, with the sums `readUsage` would compute kept up
 * to date, so reading usage costs a binary search instead of a scan of the user's rows.
 */
export class UserLedger {
  /** Grants by created_at; `rows[head…]` are live, the ones before were pruned out of the day. */
  readonly #rows: LedgerRow[];
  #head = 0;
  /** Index from which the first row still counted in `bytes` is searched (rows only ever leave it). */
  #counted = 0;
  readonly #byId = new Map<string, LedgerRow>();
  /** Declared bytes of live rows that are neither rejected nor expired. */
  #bytes = 0;
  /** Rows in state `granted` not yet seen past their expires_at: the pending grants. */
  readonly #pending = new Set<LedgerRow>();
  /** The pending rows by expires_at, soonest first; rows that left `pending` are skipped lazily. */
  readonly #expiries = new ExpiryHeap();
  /** The `now` of the last read: pending rows were dropped as expired against it. */
  #lastNow = Number.NEGATIVE_INFINITY;

  constructor(rows: LedgerRow[]) {
    this.#rows = rows;
    for (const row of rows) this.#track(row);
  }

  #track(row: LedgerRow): void {
    this.#byId.set(row.id, row);
    if (!released(row.state)) this.#bytes += row.declaredSize;
    if (row.state === 'granted') this.#pend(row);
  }

  #pend(row: LedgerRow): void {
    this.#pending.add(row);
    this.#expiries.push(row);
  }

  add(row: LedgerRow): void {
    // Clocks can step back (NTP): keep created_at order, which the searches below rely on.
    let at = this.#rows.length;
    while (at > this.#head && this.#rows[at - 1]!.createdAt > row.createdAt) at--;
    if (at === this.#rows.length) this.#rows.push(row);
    else this.#rows.splice(at, 0, row);
    if (at < this.#counted) this.#counted = at;
    this.#track(row);
  }

  setState(id: string, to: UploadState): void {
    const row = this.#byId.get(id);
    if (row === undefined || row.state === to) return; // older than the day: no longer counted
    if (!released(row.state) && released(to)) this.#bytes -= row.declaredSize;
    else if (released(row.state) && !released(to)) {
      this.#bytes += row.declaredSize;
      this.#counted = this.#head; // it may sit before the pointer: search again from the start
    }
    if (to === 'granted') this.#pend(row);
    else this.#pending.delete(row);
    row.state = to;
  }

  /** The same figures as `readUsage(tx, user, now)` over the same rows (quota.ts says what each means). */
  usage(now: number): Usage {
    const rows = this.#rows;
    // Leave the day window: created_at > now − DAY, as in the query's WHERE.
    while (this.#head < rows.length && rows[this.#head]!.createdAt <= now - DAY) {
      const row = rows[this.#head++]!;
      this.#byId.delete(row.id);
      this.#pending.delete(row);
      if (!released(row.state)) this.#bytes -= row.declaredSize;
    }
    if (this.#head > 1024 && this.#head * 2 > rows.length) {
      rows.splice(0, this.#head);
      this.#counted = Math.max(0, this.#counted - this.#head);
      this.#head = 0;
    }
    if (this.#counted < this.#head) this.#counted = this.#head;
    while (this.#counted < rows.length && released(rows[this.#counted]!.state)) this.#counted++;

    // First live row with created_at > now − MINUTE.
    let lo = this.#head;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rows[mid]!.createdAt > now - MINUTE) hi = mid;
      else lo = mid + 1;
    }

    if (now < this.#lastNow) {
      // The clock stepped back: grants dropped as expired may be pending again. Start over.
      this.#pending.clear();
      this.#expiries.clear();
      for (let i = this.#head; i < rows.length; i++) if (rows[i]!.state === 'granted') this.#pend(rows[i]!);
    }
    this.#lastNow = now;
    // Pending: state granted and expires_at > now.
    for (let top = this.#expiries.peek(); top !== undefined; top = this.#expiries.peek()) {
      if (this.#pending.has(top) && top.expiresAt > now) break;
      this.#expiries.pop();
      if (top.expiresAt <= now) this.#pending.delete(top);
    }
    return {
      recent: rows.length - lo,
      recentOldest: lo < rows.length ? rows[lo]!.createdAt : null,
      pending: this.#pending.size,
      pendingFirstExpiry: this.#expiries.peek()?.expiresAt ?? null,
      bytes: this.#bytes,
      bytesOldest: this.#counted < rows.length ? rows[this.#counted]!.createdAt : null,
    };
  }
}

/**
 * Quota usage kept in memory for SQLite, where one connection per file and process makes every
 * write to `uploads` pass through this process's Repo (which tells the ledger of each grant and
 * each state change). The rows stay the truth: a user is loaded from them on first use, and the
 * whole ledger is dropped whenever another connection may have written (another process on the
 * same file, seen by `PRAGMA data_version`) or a commit failed. What it saves is the quota query,
 * which scans a user's last day of rows on every grant (most of a grant's database time).
 */
export class QuotaLedger {
  readonly #users = new Map<string, UserLedger>();
  /** `PRAGMA data_version` when last checked; it changes only when another connection commits. */
  dataVersion: number | undefined;

  /** The user's ledger, or undefined when it must be loaded (then pass the rows to `load`). */
  get(userId: string): UserLedger | undefined {
    const user = this.#users.get(userId);
    if (user !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.#users.delete(userId);
      this.#users.set(userId, user);
    }
    return user;
  }

  /** `rows`: the user's uploads with created_at > now − DAY, in created_at order. */
  load(userId: string, rows: LedgerRow[]): UserLedger {
    const user = new UserLedger(rows);
    this.#users.set(userId, user);
    if (this.#users.size > MAX_USERS) this.#users.delete(this.#users.keys().next().value!);
    return user;
  }

  /** A state change committed (or about to be) in this process; a user not loaded reads it later. */
  setState(userId: string, id: string, to: UploadState): void {
    this.#users.get(userId)?.setState(id, to);
  }

  clear(): void {
    this.#users.clear();
  }

  get size(): number {
    return this.#users.size;
  }
}

/** A binary min-heap of rows by expires_at. */
class ExpiryHeap {
  readonly #items: LedgerRow[] = [];

  peek(): LedgerRow | undefined {
    return this.#items[0];
  }

  clear(): void {
    this.#items.length = 0;
  }

  push(row: LedgerRow): void {
    const a = this.#items;
    let i = a.push(row) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.expiresAt <= row.expiresAt) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = row;
  }

  pop(): void {
    const a = this.#items;
    const last = a.pop();
    if (last === undefined || a.length === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= a.length) break;
      if (child + 1 < a.length && a[child + 1]!.expiresAt < a[child]!.expiresAt) child++;
      if (a[child]!.expiresAt >= last.expiresAt) break;
      a[i] = a[child]!;
      i = child;
    }
    a[i] = last;
  }
}

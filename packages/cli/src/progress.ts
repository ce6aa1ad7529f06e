/**
 * Progress for `chute upload`: on a TTY one bar per file (bytes, rate, ETA), redrawn in place at
 * most 10 times a second; otherwise plain lines, one per event, for logs and pipes.
 */
export interface ProgressOutput {
  write(s: string): void;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 9_950) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Bytes per second over the last few seconds (a whole-run average would hide a stall). */
export class Rate {
  readonly #windowMs: number;
  #samples: { t: number; loaded: number }[] = [];
  constructor(windowMs = 5_000) {
    this.#windowMs = windowMs;
  }
  add(loaded: number, t: number): void {
    const last = this.#samples.at(-1);
    if (last !== undefined && loaded < last.loaded) this.#samples = []; // a retry started over
    this.#samples.push({ t, loaded });
    while (this.#samples.length > 2 && t - this.#samples[0]!.t > this.#windowMs) this.#samples.shift();
  }
  perSecond(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined || last.t - first.t < 200) return undefined;
    return ((last.loaded - first.loaded) * 1000) / (last.t - first.t);
  }
}

interface Row {
  name: string;
  total: number;
  loaded: number;
  rate: Rate;
  /** The latest event (a retry), shown after the name until the next one. */
  note?: string;
  /** Set once finished: the line shown from then on. */
  final?: string;
}

export interface Progress {
  start(index: number, name: string, total: number): void;
  update(index: number, loaded: number): void;
  note(index: number, text: string): void;
  finish(index: number, text: string): void;
  close(): void;
}

const BAR = 24;

export function barLine(
  row: { name: string; total: number; loaded: number },
  rate: number | undefined,
): string {
  const frac = row.total === 0 ? 1 : Math.min(1, row.loaded / row.total);
  const filled = Math.round(frac * BAR);
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const speed = rate === undefined ? '' : `  ${formatBytes(Math.round(rate))}/s`;
  const eta =
    rate === undefined || rate <= 0 || frac >= 1
      ? ''
      : `  ETA ${formatDuration(((row.total - row.loaded) / rate) * 1000)}`;
  return `${row.name}  [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${pct}  ${formatBytes(row.loaded)} / ${formatBytes(row.total)}${speed}${eta}`;
}

/** Bars redrawn in place (ANSI: cursor up, erase line). */
export function ttyProgress(out: ProgressOutput, now: () => number = Date.now): Progress {
  const rows: Row[] = [];
  let drawn = 0;
  let lastDraw = 0;
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const r of rows) {
      const name = r.note === undefined ? r.name : `${r.name} (${r.note})`;
      s += `\x1b[2K${r.final ?? barLine({ ...r, name }, r.rate.perSecond())}\n`;
    }
    drawn = rows.length;
    out.write(s);
  };
  return {
    start(i, name, total) {
      rows[i] = { name, total, loaded: 0, rate: new Rate() };
      for (let j = 0; j < i; j++) rows[j] ??= { name: '', total: 0, loaded: 0, rate: new Rate(), final: '' };
      draw(true);
    },
    update(i, loaded) {
      const r = rows[i];
      if (r === undefined) return;
      r.loaded = loaded;
      r.rate.add(loaded, now());
      draw(false);
    },
    note(i, text) {
      const r = rows[i];
      if (r !== undefined) r.note = text;
      draw(true);
    },
    finish(i, text) {
      const r = rows[i];
      if (r !== undefined) r.final = text;
      draw(true);
    },
    close() {
      draw(true);
    },
  };
}

/** One line per event: start, retries, end. */
export function plainProgress(out: ProgressOutput): Progress {
  const names: string[] = [];
  return {
    start(i, name, total) {
      names[i] = name;
      out.write(`${name}: uploading ${formatBytes(total)}\n`);
    },
    update() {},
    note(i, text) {
      out.write(`${names[i]}: ${text}\n`);
    },
    finish(_i, text) {
      out.write(`${text}\n`);
    },
    close() {},
  };
}

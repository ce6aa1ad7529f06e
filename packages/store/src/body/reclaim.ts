import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Keeps the store's memory flat while bodies stream through it. Every socket read arrives in a
 * fresh 64 KiB buffer (node:http copies each read into a new one); once hashed and written it is
 * garbage, but V8 only collects such external memory after tens of MiB have piled up. A
 * young-generation collection (a scavenge, well under a millisecond when the young heap holds
 * little but those buffers) every few MiB returns them at once.
 *
 * Measured (bench/ingest.ts, peak RSS over PUT+GET+POST of 100 MiB / 1 GiB): 143 / 144 MiB with
 * this; 186 / 205 without; 156 / 197 without but with --max-semi-space-size=1 (a smaller young
 * generation does not help: the buffers are external memory, which does not fill it). Nothing
 * short of a collection frees them, and node:http offers no way to read a body into reused
 * buffers, so the collection stays. Since large bodies are copied out at once into a staging ring
 * (backend/staged-writer.ts), every 4 MiB beats every 8: the freed buffers are reused while
 * still in cache, and a 1 GiB PUT went from ~630 to ~720 MB/s, the main thread from 0.88 to
 * 0.75 s of CPU, its peak RSS down ~4 MiB (every 2 MiB gained nothing more).
 */
type Gc = (opts: { type: 'minor' | 'major'; execution: 'sync'; flavor?: 'regular' | 'last-resort' }) => void;
let gc: Gc | undefined | null = null;

function v8Gc(): Gc | undefined {
  if (gc === null) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as typeof gc;
    } catch {
      gc = undefined;
    }
  }
  return gc ?? undefined;
}

/** Bytes between collections. */
export const RECLAIM_EVERY = 4 * 1024 * 1024;

export function reclaim(): void {
  v8Gc()?.({ type: 'minor', execution: 'sync' });
}

/**
 * A full collection that also hands back the young generation's unused pages (V8's
 * "last-resort" flavour, the collection it runs under memory pressure). Loading the modules grows
 * the young generation to 16 MiB, ~10 MiB of it resident and empty once start-up is over; this
 * returns it (idle RSS 87 → 76 MiB), and the scavenges every few MiB keep it small afterwards.
 * A few milliseconds, once, when the server is up.
 */
export function compact(): void {
  v8Gc()?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** Bytes between full collections (see reclaimer). */
export const FULL_RECLAIM_EVERY = 512 * 1024 * 1024;

/**
 * A counter for one body: call it with each chunk's length. Every RECLAIM_EVERY bytes it runs a
 * scavenge; every FULL_RECLAIM_EVERY bytes a full collection instead, because what a scavenge
 * finds still alive (buffers in writes in flight, their promises) is promoted, and promoted
 * buffers are only freed by a full collection: without it peak RSS kept rising with object size
 * (145 / 153 / 167 MiB for 100 MiB / 1 GiB / 5 GiB), with it 144 / 145 / 149. The full collection
 * is compact()'s, which also shrinks the young generation back: V8 grows it again under a long
 * transfer, and the plain one left the peak over PUT+GET+POST at 104 / 113 MiB for 100 MiB /
 * 5 GiB, this one at 103 / 104. It takes a few ms, ~1% of the time 512 MiB take to arrive, and
 * made no measurable difference to a 1 GiB PUT.
 */
export function reclaimer(): (bytes: number) => void {
  let seen = 0;
  let sinceFull = 0;
  return (bytes) => {
    seen += bytes;
    if (seen < RECLAIM_EVERY) return;
    sinceFull += seen;
    seen = 0;
    if (sinceFull >= FULL_RECLAIM_EVERY) {
      sinceFull = 0;
      compact();
    } else reclaim();
  };
}

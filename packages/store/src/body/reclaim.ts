import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Keeps the store's memory flat while bodies stream through it. Every socket read arrives in a
 * fresh 64 KiB buffer; once hashed and written it is garbage, but V8 only collects such
 * external memory after tens of MiB have piled up, so RSS would swing by ~60 MiB per upload.
 * A young-generation collection (a scavenge, well under a millisecond when the young heap holds
 * little but those buffers) every few MiB returns them at once.
 */
let gc: ((opts: { type: 'minor'; execution: 'sync' }) => void) | undefined | null = null;

function minorGc(): ((opts: { type: 'minor'; execution: 'sync' }) => void) | undefined {
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
export const RECLAIM_EVERY = 8 * 1024 * 1024;

export function reclaim(): void {
  minorGc()?.({ type: 'minor', execution: 'sync' });
}

import fsp from 'node:fs/promises';
import type { BlobWriter } from './types.ts';

/**
 * A new blob written to a file of its own, and who owns that file. Until a commit adopts it the
 * writer does, and abort() removes it (once, after the writer has let go of it); afterwards it
 * belongs to a record and abort() leaves it alone. The two writers differ only in how bytes get
 * to the file (blob-writer.ts, staged-writer.ts).
 */
export abstract class FileBlob implements BlobWriter {
  readonly id: string;
  protected readonly path: string;
  protected readonly dir: string;
  protected state: 'open' | 'finished' | 'aborted' = 'open';

  constructor(id: string, dir: string, path: string) {
    this.id = id;
    this.dir = dir;
    this.path = path;
  }

  abstract write(chunk: Buffer): Promise<void> | undefined;
  abstract finish(): Promise<{ size: number }>;

  /** Waits for everything in flight, then closes the file; abort() calls it once, while open. */
  protected abstract letGo(): Promise<void>;

  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    const wasOpen = this.state === 'open';
    this.state = 'aborted';
    if (wasOpen) await this.letGo();
    await fsp.unlink(this.path).catch(() => {});
  }

  /** After a commit the blob belongs to a record; abort() must no longer delete it. */
  adopt(): void {
    this.state = 'aborted';
  }
}

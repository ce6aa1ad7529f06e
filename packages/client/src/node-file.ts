/**
 * A file on disk as a Blob, for Node: `await openFile(path)`. Node 24's `fs.openAsBlob` reports
 * at most 2 GiB for a larger file (its size and its bytes stop at 2^31; measured: a 6 GiB file →
 * `size` 2147483648), so an upload of it would be granted, sent and verified as its first 2 GiB.
 * This one reads each slice with its own `fs.createReadStream(path, {start, end})`: any size,
 * and memory does not grow with the file. It is a Blob by shape (size, type, slice, stream and
 * the readers: what upload() and its Node transports use), not by `instanceof`: Node's own APIs
 * that want a real Blob (fetch's `body: blob`, FormData) take its `stream()` instead.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';

const CHUNK = 1024 * 1024;

export class DiskFile implements Blob {
  readonly #path: string;
  readonly #start: number;
  readonly #end: number;
  readonly #type: string;
  readonly name: string;
  readonly lastModified: number;

  constructor(path: string, range: { start: number; end: number }, type: string, lastModified: number) {
    this.#path = path;
    this.#start = range.start;
    this.#end = range.end;
    this.#type = type;
    this.name = basename(path);
    this.lastModified = lastModified;
  }

  get size(): number {
    return this.#end - this.#start;
  }

  get type(): string {
    return this.#type;
  }

  /** Blob.slice semantics: negative offsets count from the end; out of range clamps. */
  slice(start = 0, end = this.size, contentType = ''): DiskFile {
    const at = (n: number) => Math.min(this.size, Math.max(0, n < 0 ? this.size + n : n));
    const s = at(start);
    const e = Math.max(s, at(end));
    return new DiskFile(
      this.#path,
      { start: this.#start + s, end: this.#start + e },
      contentType,
      this.lastModified,
    );
  }

  stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.size === 0) return new ReadableStream({ start: (c) => c.close() });
    const source = createReadStream(this.#path, {
      start: this.#start,
      end: this.#end - 1,
      highWaterMark: CHUNK,
    });
    return Readable.toWeb(source) as ReadableStream<Uint8Array<ArrayBuffer>>;
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    const out = new Uint8Array(this.size);
    let at = 0;
    for await (const chunk of this.stream()) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer;
  }

  textStream(): ReadableStream<string> {
    return this.stream().pipeThrough(new TextDecoderStream());
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }
}

/** The file at `path`, whole, as a Blob of any size (its type: `options.type`, else empty). */
export async function openFile(path: string, options: { type?: string } = {}): Promise<DiskFile> {
  const info = await stat(path);
  if (!info.isFile()) throw new TypeError(`${path}: not a file`);
  return new DiskFile(path, { start: 0, end: info.size }, options.type ?? '', info.mtimeMs);
}

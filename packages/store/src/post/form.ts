/**
 * Reads a browser-form POST (multipart/form-data) the way S3 does: the fields before the part
 * named `file` are collected, bounded; the `file` part is handed over as a stream, never
 * buffered; whatever follows it is discarded ("The file or text content must be the last field
 * in the form … Any fields below it are ignored").
 */
import { Readable } from 'node:stream';
import { S3Error } from '@chute/errors';
import busboy from 'busboy';
import type { RequestBody } from '../body/request-body.ts';
import { FileBytes } from './file-bytes.ts';

/** "The form data and boundaries (excluding the contents of the file) cannot exceed 20KB." */
export const MAX_POST_PRE_DATA_BYTES = 20 * 1024;
/** A `file` part without a filename arrives as text (an HTML textarea); busboy holds it whole. */
export const MAX_TEXT_FILE_BYTES = 1024 * 1024;

export interface PostFile {
  /**
   * The part's `filename` parameter as sent (path included); undefined when the part had none,
   * in which case S3 keeps `${filename}` literally.
   */
  filename: string | undefined;
  /** The part's own Content-Type. S3 does not use it for the object (only the form field). */
  partContentType: string;
  stream: Readable;
}

export interface PostForm {
  /** The fields before `file`, names as sent; a name sent twice has its values joined by ','. */
  fields: Record<string, string>;
  file: PostFile;
}

export interface ReadFormOptions {
  maxPreDataBytes?: number;
  maxTextFileBytes?: number;
  /** The blocks busboy is fed until the file begins (FEED_BLOCK_BYTES; tests make it small). */
  feedBlockBytes?: number;
}

/** The form's `Content-Type` must be multipart/form-data; S3 answers 412 otherwise. */
function checkEnclosure(contentType: string | undefined): void {
  const mime = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mime !== 'multipart/form-data') {
    throw new S3Error('PreconditionFailed', undefined, {
      Condition: 'Bucket POST must be of the enclosure-type multipart/form-data',
    });
  }
}

/** Bytes one field costs on the wire, boundary and part header included. */
function partBytes(boundaryLength: number, name: string, value: string): number {
  // \r\n--boundary\r\nContent-Disposition: form-data; name=""\r\n\r\n
  return boundaryLength + 4 + 2 + 38 + 4 + Buffer.byteLength(name) + Buffer.byteLength(value);
}

/** The size of the blocks busboy is fed until the file begins (see readPostForm). */
const FEED_BLOCK_BYTES = 16 * 1024;

/** The length of the multipart boundary, for counting form bytes as S3 does (0 when absent). */
function boundaryLength(contentType: string): number {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return (m?.[1] ?? m?.[2] ?? '').length;
}

function isFilePart(name: string): boolean {
  return name.toLowerCase() === 'file';
}

/**
 * Starts parsing `body` and resolves as soon as the `file` part begins (its bytes not yet read):
 * the caller checks signature and policy on `fields`, then consumes `file.stream`. Rejects with
 * S3Error: PreconditionFailed (not multipart), MalformedPOSTRequest (unparseable),
 * MaxPostPreDataLengthExceeded (fields before the file above 20 KB), InvalidArgument (no file).
 * An error in the body after the file began destroys `file.stream` (MalformedPOSTRequest, or
 * IncompleteBody when the client went away).
 *
 * busboy is the one parser of the form: the fields, every part header, where the file starts
 * and, until it is plainly inside them, the file's bytes come from it (file-bytes.ts takes the
 * rest at memory speed). A second scanner that decided on its own where the file starts — the
 * old fast path — stored other bytes than busboy read on transport padding, folded headers and
 * `name=` inside a quoted filename: the classic smuggling shape (the policy checked on one
 * reading of the body, the object stored from another). See post-form-property.test.ts.
 */
export function readPostForm(
  body: Readable | RequestBody,
  contentType: string | undefined,
  opts: ReadFormOptions = {},
): Promise<PostForm> {
  const maxPreData = opts.maxPreDataBytes ?? MAX_POST_PRE_DATA_BYTES;
  const maxText = opts.maxTextFileBytes ?? MAX_TEXT_FILE_BYTES;
  const block = opts.feedBlockBytes ?? FEED_BLOCK_BYTES;
  // A body read from the socket (body/socket-body.ts) hands over chunks in memory it reuses once
  // a chunk's promise settles: what is kept past that is copied (the few chunks before the file
  // is scanned), and backpressure is that promise instead of pause().
  const readable = body instanceof Readable ? body : undefined;
  const views = readable === undefined;
  return new Promise<PostForm>((resolve, reject) => {
    checkEnclosure(contentType);
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { 'content-type': contentType },
        preservePath: true,
        defParamCharset: 'utf8',
        limits: { fieldNameSize: maxPreData, fieldSize: maxText },
      });
    } catch {
      throw new S3Error('MalformedPOSTRequest');
    }
    const bLen = boundaryLength(contentType ?? '');
    // In part order: a part with a filename is read from a stream and ends after later fields
    // arrived, but "the values must be separated by commas" in the order they were sent.
    const parts: Array<{ name: string; value: string }> = [];
    const add = (name: string, value = '') => {
      const part = { name, value };
      parts.push(part);
      return part;
    };
    // A Map, so a field named `__proto__` is a field like any other (and must be covered too).
    const collect = (): Record<string, string> => {
      const fields = new Map<string, string>();
      for (const { name, value } of parts) {
        const had = fields.get(name);
        fields.set(name, had === undefined ? value : `${had},${value}`);
      }
      return Object.fromEntries(fields);
    };
    // RFC 7578 §4.2: every part has a name. busboy hands a nameless one over as `undefined`.
    const nameless = () => fail(new S3Error('MalformedPOSTRequest'));
    const tooLarge = () =>
      new S3Error('MaxPostPreDataLengthExceeded', undefined, {
        MaxPostPreDataLengthBytes: String(maxPreData),
      });
    let preData = 0;
    /** Fields are complete (the file began) or the form was refused. */
    let settled = false;
    /** The caller has the file stream: later errors go to it. */
    let handedOver = false;
    let fileStream: Readable | undefined;
    let fileBytes: FileBytes | undefined;
    /** Whether the body's bytes still go to busboy; after the file they are read and dropped. */
    let feeding = true;
    /** With views: busboy is behind; settles when it drains (or nothing more is fed). */
    let drained: (() => void) | undefined;

    // Everything after the file's bytes — fields S3 ignores, or an abandoned body — is read and
    // dropped, so the connection can still carry the answer.
    const stop = () => {
      feeding = false;
      readable?.resume();
      drained?.();
    };
    const fail = (err: S3Error) => {
      if (!settled) {
        settled = true;
        stop();
        reject(err);
      } else if (handedOver && fileStream && !fileStream.readableEnded) {
        fileStream.destroy(err);
      }
    };
    // Parts read as fields from a stream (they had a filename) finish after busboy moved on.
    const pending: Promise<void>[] = [];
    const begin = (file: PostFile) => {
      settled = true;
      fileStream = file.stream;
      file.stream.once('end', stop);
      // A reader that gives up (destroys the stream) leaves the rest of the body to be dropped.
      file.stream.once('close', stop);
      Promise.all(pending).then(
        () => {
          handedOver = true;
          resolve({ fields: collect(), file });
        },
        (err: S3Error) => {
          file.stream.resume();
          stop();
          reject(err);
        },
      );
    };

    // busboy 1.6 keeps parsing the rest of the chunk that held the close delimiter ("--boundary--")
    // but not later chunks, so parts in the epilogue counted or not by where TCP cut the body.
    // RFC 2046 §5.1.1: what follows the close delimiter is an epilogue, "to be ignored". Its flag
    // is private; post-form-property.test.ts fails if it ever stops meaning that.
    const state = bb as unknown as { _complete?: boolean; _fileStream?: Readable | null };
    const closed = () => state._complete === true;
    // It can also take "--" after a delimiter it had already passed for a close delimiter while a
    // part is still open (a part whose bytes begin with "--boundary--"). That part never ends and
    // busboy would wait for it forever, holding the request open: it is malformed.
    const unterminated = () => {
      if (closed() && state._fileStream) state._fileStream.destroy(new S3Error('MalformedPOSTRequest'));
    };
    // Past the close delimiter no file can come. (Nor may we wait for busboy's 'close': a file
    // part it parsed in the epilogue and never saw the end of would hold it open.)
    const noFile = () => {
      if (settled) return;
      fail(
        new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', {
          ArgumentName: 'file',
          ArgumentValue: '0',
        }),
      );
    };

    bb.on('field', (name: string | undefined, value, info) => {
      if (closed()) return noFile();
      if (settled) return;
      if (name === undefined) return nameless();
      if (isFilePart(name)) {
        if (info.valueTruncated) return fail(new S3Error('MaxMessageLengthExceeded'));
        return begin({
          filename: undefined,
          partContentType: info.mimeType,
          stream: Readable.from([Buffer.from(value)]),
        });
      }
      preData += partBytes(bLen, name, value);
      if (preData > maxPreData || info.nameTruncated || info.valueTruncated) {
        return fail(tooLarge());
      }
      add(name, value);
    });

    bb.on('file', (name: string | undefined, stream, info) => {
      if (settled || closed() || name === undefined) {
        stream.on('error', () => {}); // busboy destroys an unfinished one at the end: moot here
        stream.resume();
        if (closed()) noFile();
        else if (name === undefined) nameless();
        return;
      }
      if (isFilePart(name)) {
        fileBytes = new FileBytes(stream, bb, {
          views,
          pause: () => readable?.pause(),
          resume: () => {
            if (feeding) readable?.resume();
          },
          done: stop,
        });
        return begin({ filename: info.filename, partContentType: info.mimeType, stream: fileBytes.stream });
      }
      // Any other part is a field, even with a filename: S3 counts its content as form data.
      const chunks: Buffer[] = [];
      const part = add(name);
      preData += partBytes(bLen, name, '');
      const read = new Promise<void>((done, refuse) => {
        stream.on('data', (chunk: Buffer) => {
          preData += chunk.length;
          if (preData > maxPreData) {
            stream.removeAllListeners('data');
            stream.resume();
            const err = tooLarge();
            refuse(err);
            fail(err);
            return;
          }
          chunks.push(chunk);
        });
        stream.on('end', () => {
          part.value = Buffer.concat(chunks).toString('utf8');
          done();
        });
        stream.on('error', () => refuse(new S3Error('MalformedPOSTRequest')));
      });
      read.catch(() => {}); // also reported through fail(); awaited only if the file comes
      pending.push(read);
    });

    // Once the file began, busboy's errors are the file's: busboy destroys the file stream itself
    // when the body ends or breaks inside it; what it finds wrong after the file S3 ignores.
    bb.on('error', () => {
      if (!settled && !closed()) fail(new S3Error('MalformedPOSTRequest'));
    });
    bb.on('close', noFile);

    const write = (chunk: Buffer): Promise<void> | undefined => {
      if (fileBytes?.scanning) return fileBytes.push(chunk);
      const more = bb.write(chunk);
      unterminated();
      fileBytes?.afterWrite();
      if (more) return undefined;
      if (readable) {
        readable.pause();
        bb.once('drain', () => {
          if (feeding) readable.resume();
        });
        return undefined;
      }
      return new Promise<void>((resolve) => {
        drained = () => {
          drained = undefined;
          resolve();
        };
        bb.once('drain', () => drained?.());
      });
    };
    // busboy 1.6 reads some malformed delimiter lines (padding, a header glued to the boundary)
    // differently by where a chunk ends, so until the file begins it is fed fixed blocks at fixed
    // offsets: what it reads is then a function of the bytes alone, not of TCP's segmentation.
    // The file's own end (the first CRLF--boundary) is found alike in any chunking, and what
    // follows it is ignored, so from there on chunks pass through uncopied.
    let held: Buffer[] = [];
    let heldBytes = 0;
    const release = () => {
      const all = held.length === 1 ? held[0]! : Buffer.concat(held);
      held = [];
      heldBytes = 0;
      return write(all);
    };
    const onData = (chunk: Buffer): Promise<void> | undefined => {
      if (!feeding) return undefined;
      // Until the scan takes the file over, busboy may keep slices of what it is given.
      if (settled) return write(views && !fileBytes?.scanning ? Buffer.from(chunk) : chunk);
      held.push(views ? Buffer.from(chunk) : chunk);
      heldBytes += chunk.length;
      let wait: Promise<void> | undefined;
      while (heldBytes >= block && feeding && !settled) {
        const all = Buffer.concat(held);
        const rest = all.subarray(block);
        held = rest.length > 0 ? [rest] : [];
        heldBytes = rest.length;
        wait = write(all.subarray(0, block)) ?? wait;
      }
      if (settled && feeding && heldBytes > 0) wait = release() ?? wait;
      return wait;
    };
    const onEnd = () => {
      if (!feeding) return;
      if (heldBytes > 0) release(); // may begin the file, and hand it over to the scan
      if (fileBytes?.scanning) return fileBytes.end();
      bb.end();
      unterminated();
      if (closed()) noFile();
    };
    const gone = () => {
      if (settled && fileStream && !fileStream.readableEnded)
        fileStream.destroy(new S3Error('IncompleteBody'));
      else fail(new S3Error('IncompleteBody'));
    };
    if (readable) {
      readable.on('data', (chunk: Buffer) => void onData(chunk));
      readable.on('end', onEnd);
      readable.on('error', gone);
      readable.on('aborted', gone);
    } else {
      (body as RequestBody).consume(onData).then(onEnd, gone);
    }
  });
}

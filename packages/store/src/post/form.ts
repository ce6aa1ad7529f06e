/**
 * Reads a browser-form POST (multipart/form-data) the way S3 does: the fields before the part
 * named `file` are collected, bounded; the `file` part is handed over as a stream, never
 * buffered; whatever follows it is discarded ("The file or text content must be the last field
 * in the form … Any fields below it are ignored").
 */
import { Readable } from 'node:stream';
import { S3Error } from '@chute/errors';
import busboy from 'busboy';
import { boundaryOf, FilePartScanner, fileDataOffset } from './file-part.ts';

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

function isFilePart(name: string): boolean {
  return name.toLowerCase() === 'file';
}

/** Raw bytes kept to find where the file's data starts: the fields, plus the chunk it starts in. */
const RAW_KEEP_BYTES = 256 * 1024;

/**
 * Starts parsing `body` and resolves as soon as the `file` part begins (its bytes not yet read):
 * the caller checks signature and policy on `fields`, then consumes `file.stream`. Rejects with
 * S3Error: PreconditionFailed (not multipart), MalformedPOSTRequest (unparseable),
 * MaxPostPreDataLengthExceeded (fields before the file above 20 KB), InvalidArgument (no file).
 * An error in the body after the file began destroys `file.stream` (MalformedPOSTRequest, or
 * IncompleteBody when the client went away).
 *
 * busboy parses the fields and every part header. The file's own bytes are then split off the
 * raw body by FilePartScanner (see file-part.ts) — same bytes, several times faster — unless
 * the raw bytes do not plainly show where they start, in which case busboy's stream is used.
 */
export function readPostForm(
  body: Readable,
  contentType: string | undefined,
  opts: ReadFormOptions = {},
): Promise<PostForm> {
  const maxPreData = opts.maxPreDataBytes ?? MAX_POST_PRE_DATA_BYTES;
  const maxText = opts.maxTextFileBytes ?? MAX_TEXT_FILE_BYTES;
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
    const boundary = boundaryOf(contentType ?? '');
    const bLen = boundary?.length ?? 0;
    const fields: Record<string, string> = {};
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

    /**
     * Where the body's bytes go: to busboy until the file begins, then (fast path) to the
     * scanner, and after the file to nowhere (read and dropped).
     */
    let mode: 'busboy' | 'fast' | 'drop' = 'busboy';
    let raw: Buffer[] | undefined = boundary === undefined ? undefined : [];
    let rawBytes = 0;
    let scanner: FilePartScanner | undefined;
    let fast: Readable | undefined;

    // Everything after the file's bytes — fields S3 ignores, or an abandoned body — is read and
    // dropped, so the connection can still carry the answer.
    const stop = () => {
      mode = 'drop';
      raw = undefined;
      body.resume();
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
      Promise.all(pending).then(
        () => {
          handedOver = true;
          resolve({ fields, file });
        },
        (err: S3Error) => {
          file.stream.resume();
          stop();
          reject(err);
        },
      );
    };

    const feedFast = (chunk: Buffer) => {
      const { data, done } = scanner!.push(chunk);
      for (const d of data) if (!fast!.push(d)) body.pause();
      if (done) {
        fast!.push(null);
        stop();
      }
    };

    /** Takes the file's bytes off busboy, if the raw bytes show where they begin. */
    const goFast = (): Readable | undefined => {
      if (raw === undefined || boundary === undefined) return undefined;
      const seen = Buffer.concat(raw);
      const offset = fileDataOffset(seen, boundary);
      if (offset === undefined) return undefined;
      raw = undefined;
      mode = 'fast';
      scanner = new FilePartScanner(boundary);
      fast = new Readable({
        read: () => {
          if (mode === 'fast' && body.isPaused()) body.resume();
        },
      });
      // An error before the caller reads is kept for its read (the stream is errored), not thrown.
      fast.on('error', () => {});
      // A reader that gives up (destroys the stream) leaves the rest of the body to be dropped.
      fast.on('close', () => {
        if (mode === 'fast') stop();
      });
      feedFast(seen.subarray(offset));
      return fast;
    };

    bb.on('field', (name, value, info) => {
      if (settled) return;
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
      // A repeated name: "the values must be separated by commas".
      fields[name] = name in fields ? `${fields[name]},${value}` : value;
    });

    bb.on('file', (name, stream, info) => {
      if (settled) {
        stream.resume();
        return;
      }
      if (isFilePart(name)) {
        const taken = goFast();
        if (taken) stream.resume(); // busboy's copy of the bytes is dropped
        return begin({ filename: info.filename, partContentType: info.mimeType, stream: taken ?? stream });
      }
      // Any other part is a field, even with a filename: S3 counts its content as form data.
      const chunks: Buffer[] = [];
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
          const value = Buffer.concat(chunks).toString('utf8');
          fields[name] = name in fields ? `${fields[name]},${value}` : value;
          done();
        });
        stream.on('error', () => refuse(new S3Error('MalformedPOSTRequest')));
      });
      read.catch(() => {}); // also reported through fail(); awaited only if the file comes
      pending.push(read);
    });

    // Once the file is on the fast path busboy is no longer fed: what it says then is moot.
    bb.on('error', () => {
      if (mode === 'busboy') fail(new S3Error('MalformedPOSTRequest'));
    });
    bb.on('close', () => {
      if (!settled) {
        fail(
          new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', {
            ArgumentName: 'file',
            ArgumentValue: '0',
          }),
        );
      }
    });

    body.on('data', (chunk: Buffer) => {
      if (mode === 'busboy') {
        if (raw !== undefined) {
          raw.push(chunk);
          rawBytes += chunk.length;
          if (rawBytes > maxPreData + RAW_KEEP_BYTES) raw = undefined;
        }
        const more = bb.write(chunk);
        // The chunk may have started the fast path (busboy's 'file' fired inside write).
        if (!more && mode === 'busboy') {
          body.pause();
          bb.once('drain', () => {
            if (mode === 'busboy') body.resume();
          });
        }
      } else if (mode === 'fast') {
        feedFast(chunk);
      }
    });
    body.on('end', () => {
      if (mode === 'busboy') bb.end();
      else if (mode === 'fast') fast!.destroy(new S3Error('MalformedPOSTRequest'));
    });
    const gone = () => {
      if (mode === 'fast') fast!.destroy(new S3Error('IncompleteBody'));
      else fail(new S3Error('IncompleteBody'));
    };
    body.on('error', gone);
    body.on('aborted', gone);
  });
}

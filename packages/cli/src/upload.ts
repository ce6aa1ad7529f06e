/**
 * `chute upload FILE... --route R [--endpoint URL] [--token T] [--type MIME] [--resume]
 * [--concurrency N]`: each
 * file through @chute/client (grant → storage → complete), one after the other. Exit code 0 when
 * every file was accepted (verified, or waiting for review), 1 when any failed or was rejected,
 * 130 when interrupted; 2 for usage errors.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ChuteClientError, type ResumeStore, type Upload, upload } from '@chute/client';
import { openFile } from '@chute/client/node';
import { fileTypeFromFile } from 'file-type';
import { UsageError } from './errors.ts';
import { parseFlags } from './flags.ts';
import { formatBytes, formatDuration, type Progress, plainProgress, ttyProgress } from './progress.ts';
import { fileResume } from './resume-file.ts';

export interface UploadArgs {
  files: string[];
  route: string;
  endpoint: string;
  token: string;
  /** Declared type for every file; default: read from each file's bytes, else its extension. */
  type?: string | undefined;
  /** Where interrupted multipart uploads are remembered (`--resume`), else undefined. */
  resumeDir?: string | undefined;
  /** Multipart: parts in flight at once (`--concurrency`, default the client's 4). */
  concurrency?: number | undefined;
}

export function uploadArgs(
  argv: string[],
  defaults: { token?: string | undefined; data: string },
): UploadArgs {
  const { values: v, positionals } = parseFlags({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      route: { type: 'string' },
      endpoint: { type: 'string' },
      token: { type: 'string' },
      type: { type: 'string' },
      resume: { type: 'boolean' },
      concurrency: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new UsageError('upload: name at least one FILE');
  if (!v.route) throw new UsageError('upload: --route R is required');
  const token = v.token ?? defaults.token;
  if (!token)
    throw new UsageError(
      'upload: a token is required: --token T or CHUTE_TOKEN (with chute dev: TOKEN=$(npm run -s chute -- token --user alice))',
    );
  const endpoint = v.endpoint ?? 'http://127.0.0.1:3000';
  if (!/^https?:\/\/[^/]+/.test(endpoint))
    throw new UsageError(`upload: --endpoint must be an http(s) URL, got ${endpoint}`);
  if (v.type !== undefined && !/^[\w.+-]+\/[\w.+-]+$/.test(v.type))
    throw new UsageError(`upload: --type must be a media type like image/png, got ${v.type}`);
  const concurrency = v.concurrency === undefined ? undefined : Number(v.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64))
    throw new UsageError(`upload: --concurrency must be a whole number 1–64, got ${v.concurrency}`);
  return {
    files: positionals,
    concurrency,
    route: v.route,
    endpoint,
    token,
    type: v.type,
    resumeDir: v.resume ? path.resolve(defaults.data, 'uploads') : undefined,
  };
}

/** Types without a magic number, recognised by extension (the gateway accepts them as UTF-8 text). */
const TEXT_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.json': 'application/json',
};

/**
 * The declared type, read from the bytes with file-type — the library the gateway verifies with,
 * so the declaration agrees with what complete will find — else by extension, else octet-stream.
 */
export async function detectType(file: string): Promise<string> {
  const found = await fileTypeFromFile(file);
  if (found !== undefined) return found.mime;
  return TEXT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export interface UploadIo {
  /** One line per accepted file: `<id> <state> <file>`. */
  stdout: { write(s: string): void };
  /** Progress, retries, failures. */
  stderr: { write(s: string): void };
  tty: boolean;
  signal: AbortSignal;
}

const ACCEPTED = new Set(['verified', 'pending_review', 'approved']);

export async function runUpload(args: UploadArgs, io: UploadIo): Promise<number> {
  const progress: Progress = io.tty ? ttyProgress(io.stderr) : plainProgress(io.stderr);
  const resume: ResumeStore | undefined =
    args.resumeDir === undefined ? undefined : fileResume(args.resumeDir);
  let failed = 0;
  // On a terminal the result lines wait until the bars are done: a line written between two
  // redraws would shift the rows the cursor moves back over.
  const results: string[] = [];
  const result = (line: string) => (io.tty ? results.push(line) : io.stdout.write(line));
  try {
    for (const [i, file] of args.files.entries()) {
      if (io.signal.aborted) break;
      const name = path.basename(file);
      const started = Date.now();
      try {
        const info = await stat(file).catch(() => undefined);
        if (!info?.isFile()) throw new UsageError(`${file}: not a readable file`);
        const contentType = args.type ?? (await detectType(file));
        progress.start(i, name, info.size);
        // Not fs.openAsBlob: it stops at 2 GiB (packages/client/src/node-file.ts).
        const done: Upload = await upload(await openFile(file, { type: contentType }), {
          endpoint: args.endpoint,
          token: args.token,
          route: args.route,
          filename: name,
          contentType,
          signal: io.signal,
          resume,
          // The same file is the same path, size and mtime: one edited in place starts afresh.
          resumeKey: `chute-upload:${args.route}:${path.resolve(file)}:${info.size}:${info.mtimeMs}`,
          // Ctrl-C with --resume keeps the upload, so the next `--resume` run continues it.
          keepOnAbort: resume !== undefined,
          concurrency: args.concurrency,
          onProgress: (p) => progress.update(i, p.loaded),
          onRetry: (e) =>
            progress.note(i, `${e.what}: ${e.error.code}, retry ${e.retry} in ${formatDuration(e.delayMs)}`),
        });
        const took = formatDuration(Date.now() - started);
        if (ACCEPTED.has(done.state)) {
          progress.finish(i, `${name}: ${done.state} ${done.id} (${formatBytes(done.size)} in ${took})`);
          result(`${done.id} ${done.state} ${file}\n`);
        } else {
          failed++;
          progress.finish(i, `${name}: ${done.state}${done.reason ? ` (${done.reason})` : ''} ${done.id}`);
        }
      } catch (e) {
        failed++;
        progress.finish(i, `${name}: ${describe(e, resume !== undefined)}`);
      }
    }
  } finally {
    progress.close();
    for (const line of results) io.stdout.write(line);
  }
  if (io.signal.aborted) return 130;
  return failed > 0 ? 1 : 0;
}

/** The gateway's (or storage's) code first, so scripts can grep it. */
export function describe(e: unknown, resumable = false): string {
  if (e instanceof ChuteClientError) {
    if (e.code === 'aborted' && resumable && e.uploadId)
      return `aborted (${e.uploadId} kept: run again with --resume to continue it)`;
    if (e.code === 'aborted') return `aborted${e.uploadId ? ` (${e.uploadId} left granted)` : ''}`;
    const status = e.status === undefined ? '' : ` ${e.status}`;
    const from = e.source === 'client' ? '' : ` from ${e.source}`;
    const req = e.requestId ? ` [request ${e.requestId}]` : '';
    return `error ${e.code}${status}${from}: ${e.message}${req}`;
  }
  return `error: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * The command as `chute` runs it: Ctrl-C (SIGINT) or SIGTERM aborts the upload in flight —
 * storage drops the partial body, the grant is left to expire (a multipart upload with --resume
 * is kept for the next `--resume` run; without, it is cancelled) — and a second one exits at once.
 */
export async function uploadCommand(args: UploadArgs): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: aborting…\n`);
    controller.abort(new Error(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runUpload(args, {
      stdout: process.stdout,
      stderr: process.stderr,
      tty: process.stderr.isTTY === true,
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

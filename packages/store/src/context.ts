import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { S3Error } from '@chute/errors';
import type { AuthResult } from '@chute/sigv4';
import type { Backend, BucketInfo, ReadHandle } from './backend/types.ts';
import type { RequestBody } from './body/request-body.ts';
import type { OperationName } from './classify.ts';
import type { StoreConfig } from './config.ts';
import { applyCors } from './cors-hook.ts';

/** One JSON object per request (and for start-up events); the default writes a line to stdout. */
export type LogFn = (line: Record<string, unknown>) => void;

/** Everything a handler gets. Handlers answer through send/sendXml/stream only. */
export class RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request's body: read it through this, never through `req` (see body/request-body.ts). */
  readonly body: RequestBody;
  readonly requestId: string;
  readonly op: OperationName;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: URLSearchParams;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly config: StoreConfig;
  readonly backend: Backend;
  readonly log: LogFn;
  auth: AuthResult = { kind: 'anonymous' };
  /** Extra fields for this request's log line (e.g. bytes received). */
  readonly logFields: Record<string, unknown> = {};

  constructor(init: {
    req: IncomingMessage;
    res: ServerResponse;
    body: RequestBody;
    requestId: string;
    op: OperationName;
    bucket: string | undefined;
    key: string | undefined;
    query: URLSearchParams;
    rawPath: string;
    rawQuery: string;
    config: StoreConfig;
    backend: Backend;
    log: LogFn;
  }) {
    this.req = init.req;
    this.res = init.res;
    this.body = init.body;
    this.requestId = init.requestId;
    this.op = init.op;
    this.bucket = init.bucket;
    this.key = init.key;
    this.query = init.query;
    this.rawPath = init.rawPath;
    this.rawQuery = init.rawQuery;
    this.config = init.config;
    this.backend = init.backend;
    this.log = init.log;
    // `Expect: 100-continue`: the interim "100 Continue" goes out when something first reads the
    // body — whichever way it reads — so a request refused before that never uploads its bytes.
    if (/100-continue/i.test(this.header('expect') ?? '')) {
      const req = this.req;
      const read = req._read;
      req._read = function (this: IncomingMessage, n: number) {
        req._read = read;
        if (!init.res.headersSent) init.res.writeContinue();
        return read.call(this, n);
      };
    }
  }

  get authenticated(): boolean {
    return this.auth.kind !== 'anonymous';
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }

  /** The bucket of the request, which must exist. */
  requireBucket(): BucketInfo {
    const name = this.bucket;
    const b = name === undefined ? undefined : this.backend.getBucket(name);
    if (!b) throw new S3Error('NoSuchBucket', undefined, { BucketName: name ?? '' });
    return b;
  }

  requireKey(): string {
    if (this.key === undefined) throw new S3Error('InvalidRequest', 'An object key is required');
    return this.key;
  }

  /** Sets the status and headers; every response passes here, so CORS headers are added here. */
  writeHead(status: number, headers: OutgoingHttpHeaders = {}): void {
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.res.setHeader(k, v);
    applyCors(this);
    this.res.statusCode = status;
  }

  send(status: number, headers: OutgoingHttpHeaders = {}, body?: string | Buffer): void {
    const buf = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    this.writeHead(status, { ...headers, 'content-length': buf?.length ?? 0 });
    // HEAD never carries a body (RFC 9110 §9.3.2); content-length still describes the GET body.
    if (this.req.method === 'HEAD' || !buf) this.res.end();
    else this.res.end(buf);
  }

  sendXml(status: number, xml: string, headers: OutgoingHttpHeaders = {}): void {
    this.send(status, { 'content-type': 'application/xml', ...headers }, xml);
  }

  /** Sends bytes [start, end] of an opened object (a GET); headers must include content-length. */
  async sendObject(
    status: number,
    headers: OutgoingHttpHeaders,
    handle: ReadHandle,
    start: number,
    end: number,
  ): Promise<void> {
    this.writeHead(status, headers);
    this.res.flushHeaders();
    await handle.writeTo(this.res, start, end);
    await new Promise<void>((resolve) => this.res.end(resolve));
  }

  /** Streams a body; headers must include content-length. */
  async stream(status: number, headers: OutgoingHttpHeaders, body: NodeJS.ReadableStream): Promise<void> {
    this.writeHead(status, headers);
    this.res.flushHeaders();
    await pipeline(body, this.res);
  }
}

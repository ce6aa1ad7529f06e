import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { presignUrl } from '@chute/sigv4';
import type { Target } from '../../../../test/conformance/target.ts';

/**
 * A STAND-IN for the gateway's multipart endpoints, which do not exist yet: the contract of
 * packages/client/README.md "Multipart (not wired yet)", served over real storage (the SDK for
 * Create/List/Complete/AbortMultipartUpload, @chute/sigv4 for part URLs with Content-Length
 * signed, pointing at `publicEndpoint`). No auth, no verification, no database: it exists so the
 * client's multipart path runs against storage's real multipart semantics until the gateway
 * serves the contract — then these tests should move to the real gateway and this file go.
 */
export const PART_SIZE = 5 * 1024 * 1024;

interface Record_ {
  id: string;
  key: string;
  uploadId: string;
  size: number;
  partCount: number;
  state: string;
  expiresAt: number;
}

export interface Contract {
  url: string;
  /** Requests seen, e.g. "POST /v1/uploads/up_x/parts?from=1&count=100". */
  seen: string[];
  /** Part numbers whose next URL is signed two hours in the past (then removed). */
  expireParts: Set<number>;
  /** URLs the grant carries (the rest come from /parts). */
  initialUrls: number;
  uploads: Map<string, Record_>;
  close(): Promise<void>;
}

export async function startContract(opts: {
  target: Target;
  s3: S3Client;
  bucket: string;
  publicEndpoint: string;
}): Promise<Contract> {
  const credentials = { accessKeyId: opts.target.accessKeyId, secretAccessKey: opts.target.secretAccessKey };
  const contract: Contract = {
    url: '',
    seen: [],
    expireParts: new Set(),
    initialUrls: 1,
    uploads: new Map(),
    close: async () => {},
  };
  const partBytes = (u: Record_, n: number) =>
    n < u.partCount ? PART_SIZE : u.size - PART_SIZE * (u.partCount - 1);
  const partUrl = (u: Record_, n: number) => {
    const expired = contract.expireParts.delete(n);
    return {
      number: n,
      url: presignUrl({
        method: 'PUT',
        endpoint: opts.publicEndpoint,
        path: `/${opts.bucket}/${u.key}`,
        query: { partNumber: String(n), uploadId: u.uploadId },
        headers: { 'content-length': String(partBytes(u, n)) },
        credentials,
        region: opts.target.region,
        expiresIn: 600,
        ...(expired && { now: Date.now() - 2 * 3600_000 }),
      }),
    };
  };
  const times = (u: Record_) => ({
    expiresAt: new Date(u.expiresAt).toISOString(),
    serverTime: new Date().toISOString(),
  });
  const view = (u: Record_) => ({
    id: u.id,
    userId: 'alice',
    route: 'big',
    state: u.state,
    method: 'multipart',
    filename: 'big.bin',
    contentType: 'application/octet-stream',
    size: u.size,
    createdAt: new Date().toISOString(),
    expiresAt: new Date(u.expiresAt).toISOString(),
  });

  const handle = async (req: http.IncomingMessage): Promise<{ status: number; body?: unknown }> => {
    const url = new URL(req.url ?? '/', 'http://x');
    let text = '';
    for await (const c of req) text += c;
    const json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    if (req.method === 'POST' && url.pathname === '/v1/grants') {
      const size = json['size'] as number;
      const id = `up_${randomBytes(8).toString('hex')}`;
      const key = `incoming/alice/${id}`;
      const created = await opts.s3.send(new CreateMultipartUploadCommand({ Bucket: opts.bucket, Key: key }));
      const u: Record_ = {
        id,
        key,
        uploadId: created.UploadId!,
        size,
        partCount: Math.max(1, Math.ceil(size / PART_SIZE)),
        state: 'granted',
        expiresAt: Date.now() + 600_000,
      };
      contract.uploads.set(id, u);
      const parts = [];
      for (let n = 1; n <= Math.min(contract.initialUrls, u.partCount); n++) parts.push(partUrl(u, n));
      return {
        status: 201,
        body: {
          id,
          method: 'multipart',
          key,
          ...times(u),
          uploadId: u.uploadId,
          partSize: PART_SIZE,
          partCount: u.partCount,
          parts,
        },
      };
    }
    const m = url.pathname.match(/^\/v1\/uploads\/([\w]+)(\/parts|\/complete)?$/);
    const u = m ? contract.uploads.get(m[1]!) : undefined;
    if (u === undefined)
      return {
        status: 404,
        body: { error: { code: 'not_found', message: 'No such upload.', requestId: 'x' } },
      };
    const sub = m![2];
    if (req.method === 'GET' && sub === undefined) return { status: 200, body: view(u) };
    if (req.method === 'POST' && sub === '/parts') {
      const from = Number(url.searchParams.get('from'));
      const count = Number(url.searchParams.get('count'));
      const parts = [];
      for (let n = from; n < from + count && n <= u.partCount; n++) parts.push(partUrl(u, n));
      return { status: 200, body: { parts, ...times(u) } };
    }
    if (req.method === 'GET' && sub === '/parts') {
      const listed = await opts.s3.send(
        new ListPartsCommand({ Bucket: opts.bucket, Key: u.key, UploadId: u.uploadId }),
      );
      return {
        status: 200,
        body: {
          parts: (listed.Parts ?? []).map((p) => ({ number: p.PartNumber, etag: p.ETag, size: p.Size })),
        },
      };
    }
    if (req.method === 'POST' && sub === '/complete') {
      const parts = json['parts'] as { number: number; etag: string }[];
      await opts.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: opts.bucket,
          Key: u.key,
          UploadId: u.uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.number, ETag: p.etag })) },
        }),
      );
      u.state = 'verified';
      return { status: 200, body: view(u) };
    }
    if (req.method === 'DELETE' && sub === undefined) {
      await opts.s3.send(
        new AbortMultipartUploadCommand({ Bucket: opts.bucket, Key: u.key, UploadId: u.uploadId }),
      );
      u.state = 'expired';
      return { status: 204 };
    }
    return { status: 405, body: { error: { code: 'method_not_allowed', message: 'No.', requestId: 'x' } } };
  };

  const server = http.createServer((req, res) => {
    contract.seen.push(`${req.method} ${req.url}`);
    handle(req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'internal', message: String(e), requestId: 'x' } }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  contract.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  contract.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return contract;
}

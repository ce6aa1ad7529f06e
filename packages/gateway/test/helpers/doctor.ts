import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DoctorInput } from '../../src/doctor/types.ts';
import type { StorageConfig } from '../../src/storage/s3.ts';

/** The doctor's input for a bucket on an S3 endpoint; nothing else configured. */
export function doctorInput(storage: StorageConfig, over: Partial<DoctorInput> = {}): DoctorInput {
  return {
    storage,
    origins: ['http://127.0.0.1:3000'],
    database: { url: 'sqlite::memory:' },
    webhooks: [],
    ...over,
  };
}

export function storageConfig(
  t: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string },
  bucket: string,
): StorageConfig {
  return {
    endpoint: t.endpoint,
    region: t.region,
    bucket,
    accessKeyId: t.accessKeyId,
    secretAccessKey: t.secretAccessKey,
    forcePathStyle: true,
  };
}

export interface Server {
  url: string;
  close(): Promise<void>;
}

/**
 * A real HTTP server in front of `upstream` that passes every request through unchanged (Host
 * included, so signatures still verify) and rewrites the Date header of every answer by
 * `offsetMs`: storage whose clock is off, as the doctor sees it.
 */
export async function dateShiftingProxy(upstream: string, offsetMs: number): Promise<Server> {
  const to = new URL(upstream);
  const server = http.createServer((req, res) => {
    const out = http.request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const headers = { ...answer.headers };
        const date = Date.parse(String(headers.date ?? ''));
        headers.date = new Date((Number.isNaN(date) ? Date.now() : date) + offsetMs).toUTCString();
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  return listen(server);
}

/** A webhook receiver stand-in that answers every request with `status`. */
export function answering(status: number): Promise<Server> {
  return listen(
    http.createServer((_req, res) => {
      res.writeHead(status).end();
    }),
  );
}

async function listen(server: http.Server): Promise<Server> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

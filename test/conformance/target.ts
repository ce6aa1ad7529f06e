// The S3 endpoint the conformance suite runs against.
//
//   CHUTE_S3_TARGET=rgw       a running Ceph RGW: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION
//                             (scripts/test-rgw.sh starts one and sets them)
//   CHUTE_S3_TARGET=embedded  (default) our embedded store, started in-process on 127.0.0.1:0
//
// This is the suite's entry point, so it is the one module that reads process.env.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TargetName = 'rgw' | 'embedded';

export interface Target {
  name: TargetName;
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Every bucket a test file creates starts with this; unique per openTarget() call. */
  bucketPrefix: string;
  close(): Promise<void>;
}

export async function openTarget(): Promise<Target> {
  const name = process.env['CHUTE_S3_TARGET'] ?? 'embedded';
  const bucketPrefix = `chute-conf-${randomBytes(3).toString('hex')}`;
  if (name === 'rgw') return { ...fromEnv(), bucketPrefix };
  if (name === 'embedded') return { ...(await startEmbedded()), bucketPrefix };
  throw new Error(`CHUTE_S3_TARGET must be "rgw" or "embedded", got ${JSON.stringify(name)}`);
}

function fromEnv(): Omit<Target, 'bucketPrefix'> {
  const need = ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION'] as const;
  const missing = need.filter((k) => !process.env[k]);
  // A conformance run that silently skips is worse than none: fail loudly.
  if (missing.length > 0) {
    throw new Error(
      `CHUTE_S3_TARGET=rgw needs ${missing.join(', ')} in the environment ` +
        '(run `npm run test:rgw`, or source $CHUTE_RGW_DIR/env after scripts/rgw-start.sh)',
    );
  }
  return {
    name: 'rgw',
    endpoint: process.env['S3_ENDPOINT']!.replace(/\/+$/, ''),
    region: process.env['S3_REGION']!,
    accessKeyId: process.env['S3_ACCESS_KEY']!,
    secretAccessKey: process.env['S3_SECRET_KEY']!,
    close: async () => {},
  };
}

const EMBEDDED_USER = {
  accessKeyId: 'CHUTECONFORMANCE0000',
  secretAccessKey: 'chute-conformance-secret-0000000000000000',
};
const EMBEDDED_REGION = 'us-east-1';

async function startEmbedded(): Promise<Omit<Target, 'bucketPrefix'>> {
  // Loaded only for this target, so an RGW run never depends on the store's code.
  const { createStore } = await import('@chute/store');
  const dataDir = await mkdtemp(join(tmpdir(), 'chute-conformance-'));
  const store = await createStore(
    { dataDir, host: '127.0.0.1', port: 0, region: EMBEDDED_REGION, users: [EMBEDDED_USER] },
    { log: () => {} },
  );
  const { url } = await store.listen();
  return {
    name: 'embedded',
    endpoint: url.replace(/\/+$/, ''),
    region: EMBEDDED_REGION,
    ...EMBEDDED_USER,
    close: async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

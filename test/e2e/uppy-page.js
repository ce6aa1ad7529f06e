// The page of test/e2e/uppy.test.ts, bundled by esbuild with the real packages from npm. What an
// app does (docs/uppy.md): a Companion link with the user's token, then Uppy with options only.
// Plus what the test needs to drive and watch it: a generated file, a log of Companion calls.
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import GoldenRetriever from '@uppy/golden-retriever';

const MIB = 2 ** 20;

/** Every Companion call Uppy makes (method and the path after `/s3`), in order. */
const calls = [];
const realFetch = window.fetch.bind(window);
window.fetch = (input, init) => {
  const url = new URL(String(input), location.href);
  const at = url.pathname.indexOf('/s3/');
  if (url.pathname.startsWith('/v1/companion/') && at >= 0)
    calls.push(`${init?.method ?? 'GET'} ${url.pathname.slice(at + 3)}`);
  return realFetch(input, init);
};

/** The app's side: ask the gateway for the link (POST /v1/companion) with the user's token. */
async function companionEndpoint(token, route) {
  const res = await fetch('/v1/companion', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ route }),
  });
  if (res.status !== 201) throw new Error(`POST /v1/companion: ${res.status} ${await res.text()}`);
  return (await res.json()).companionEndpoint;
}

/** Uppy as docs/uppy.md sets it up; `retriever`: with Golden Retriever (resume after a reload). */
function makeUppy(endpoint, { retriever = false, log } = {}) {
  const uppy = new Uppy({
    onBeforeFileAdded: (file, files) =>
      !Object.hasOwn(files, file.id) && { ...file, meta: { ...file.meta, size: file.size } },
    ...(log !== undefined && { logger: { debug: log, warn: log, error: log } }),
  }).use(AwsS3, { companionEndpoint: endpoint, shouldUseMultipart: true });
  // Golden Retriever keeps blobs up to 10 MiB by default; this file is larger.
  if (retriever)
    uppy.use(GoldenRetriever, { indexedDB: { maxFileSize: 512 * MIB, maxTotalSize: 512 * MIB } });
  return uppy;
}

/**
 * `size` bytes, MiB by MiB: each MiB starts with its own number, then a pattern (the test hashes
 * the same bytes in Node), so parts out of order or sent twice change the digest.
 */
function makeBlob(size, type) {
  const base = new Uint8Array(MIB);
  for (let j = 0; j < MIB; j++) base[j] = (j * 7 + (j >>> 10)) & 255;
  const pieces = [];
  for (let i = 0, left = size; left > 0; i++) {
    const head = new Uint8Array(16);
    new TextEncoder().encodeInto(`MiB ${String(i).padStart(11, '0')}\n`, head);
    for (const piece of [head, base.subarray(16)]) {
      const p = piece.subarray(0, Math.min(piece.length, left));
      pieces.push(p);
      left -= p.length;
    }
  }
  return new Blob(pieces, { type });
}

/** What the test reads back: progress, parts, outcome of one file. */
function watch(uppy) {
  const out = { successful: [], failed: [], progress: 0, parts: 0, uploadId: undefined };
  uppy.on('upload-progress', (_file, p) => {
    out.progress = Math.max(out.progress, p.bytesUploaded);
  });
  uppy.on('upload-error', (_file, e) => out.failed.push({ error: e.message }));
  uppy.on('upload-success', (_file, response) => out.successful.push(response.body ?? {}));
  uppy.on('s3-multipart:part-uploaded', (file) => {
    out.parts++;
    out.uploadId = uppy.getFile(file.id)?.s3Multipart?.uploadId ?? out.uploadId;
  });
  return out;
}

window.uppyE2E = { calls, companionEndpoint, makeUppy, makeBlob, watch };
document.body.dataset.ready = 'true';

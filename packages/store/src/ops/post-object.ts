import type { TLSSocket } from 'node:tls';
import { SocketBody } from '../body/socket-body.ts';
import type { RequestContext } from '../context.ts';
import { checkKey } from '../keys.ts';
import { planPostObject } from '../post/attrs.ts';
import { authorizePost } from '../post/authorize.ts';
import { readPostForm } from '../post/form.ts';
import { drain, receiveFile } from '../post/receive.ts';
import { objectLocation, postAnswer } from '../post/respond.ts';
import { md5Etag } from './common.ts';

/**
 * POST /bucket with multipart/form-data — S3's browser-based upload ("POST Object"). Outline:
 * fields before `file` → signature, policy and access (all before one byte of the file is
 * accepted) → the file streamed into a new blob under the policy's size range → verified →
 * committed → the answer the form asked for. "Amazon S3 never stores partial objects."
 */
export async function postObject(ctx: RequestContext): Promise<void> {
  const bucket = ctx.requireBucket();
  // A large form is read from the socket (body/takeover.ts); any other through node:http.
  const form = await readPostForm(
    ctx.body instanceof SocketBody ? ctx.body : ctx.req,
    ctx.header('content-type'),
  );

  let grant: ReturnType<typeof authorizePost>;
  let plan: ReturnType<typeof planPostObject>;
  try {
    grant = authorizePost({
      fields: form.fields,
      bucket,
      filename: form.file.filename,
      verify: {
        lookupSecret: (id) => ctx.config.users.find((u) => u.accessKeyId === id)?.secretAccessKey,
        now: Date.now(),
        region: ctx.config.region,
      },
    });
    checkKey(grant.key);
    plan = planPostObject(grant.fields);
  } catch (e) {
    // Read (and drop) the refused file so the browser can read the error document.
    await drain(form.file.stream);
    throw e;
  }
  if (grant.accessKeyId !== undefined) ctx.logFields.accessKeyId = grant.accessKeyId;

  // The form's length bounds the file's: a large form gets a staged writer.
  const blob = await ctx.backend.newBlob(bucket.name, Number(ctx.header('content-length') ?? 0));
  try {
    const received = await receiveFile(form.file.stream, blob, grant.lengthRange, plan.integrity);
    const { size } = await blob.finish();
    ctx.logFields.bytesIn = size;
    const meta = await ctx.backend.commitObject(bucket.name, grant.key, blob, {
      ...plan.attrs,
      checksum: received.checksum,
      size,
      etag: md5Etag(received.md5),
    });
    const virtualHost = ctx.rawPath === '/' || ctx.rawPath === '';
    const scheme = (ctx.req.socket as TLSSocket).encrypted ? 'https' : 'http';
    const origin = `${scheme}://${ctx.header('host') ?? `${ctx.config.host}:${ctx.config.port}`}`;
    const answer = postAnswer(grant.fields, {
      bucket: bucket.name,
      key: meta.key,
      etag: meta.etag,
      location: objectLocation(origin, bucket.name, meta.key, virtualHost),
    });
    ctx.send(answer.status, answer.headers, answer.body === '' ? undefined : answer.body);
  } finally {
    await blob.abort(); // no-op once committed
  }
}

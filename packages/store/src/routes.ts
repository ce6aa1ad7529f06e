import type { Access } from './auth.ts';
import type { OperationName } from './classify.ts';
import type { RequestContext } from './context.ts';
import { getBucketAcl, putBucketAcl } from './ops/bucket-acl.ts';
import { copyObject } from './ops/copy-object.ts';
import { createBucket } from './ops/create-bucket.ts';
import { deleteBucket } from './ops/delete-bucket.ts';
import { deleteBucketCors } from './ops/delete-bucket-cors.ts';
import { deleteObject } from './ops/delete-object.ts';
import { deleteObjects } from './ops/delete-objects.ts';
import { getBucketCors } from './ops/get-bucket-cors.ts';
import { getBucketLocation } from './ops/get-bucket-location.ts';
import { getObject, headObject } from './ops/get-object.ts';
import { headBucket } from './ops/head-bucket.ts';
import { listBuckets } from './ops/list-buckets.ts';
import { listObjects, listObjectsV2, listObjectVersions } from './ops/list-objects.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './ops/multipart.ts';
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './ops/object-tagging.ts';
import { postObject } from './ops/post-object.ts';
import { preflight } from './ops/preflight.ts';
import { putBucketCors } from './ops/put-bucket-cors.ts';
import { putObject } from './ops/put-object.ts';
import { uploadPartCopy } from './ops/upload-part-copy.ts';

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface Route {
  handler: Handler;
  /** What an anonymous caller needs from the bucket's canned ACL (see auth.ts). */
  access: Access;
}

/**
 * Operation → handler. One line per operation; an operation missing here is answered
 * NotImplemented. Keep it a flat table so features can add their lines independently.
 */
export const ROUTES: Partial<Record<OperationName, Route>> = {
  ListBuckets: { handler: listBuckets, access: 'owner' },
  CreateBucket: { handler: createBucket, access: 'owner' },
  HeadBucket: { handler: headBucket, access: 'read' },
  DeleteBucket: { handler: deleteBucket, access: 'owner' },
  GetBucketLocation: { handler: getBucketLocation, access: 'owner' },
  PutBucketAcl: { handler: putBucketAcl, access: 'owner' },
  GetBucketAcl: { handler: getBucketAcl, access: 'owner' },
  ListObjects: { handler: listObjects, access: 'read' },
  ListObjectsV2: { handler: listObjectsV2, access: 'read' },
  ListObjectVersions: { handler: listObjectVersions, access: 'read' },
  PutObject: { handler: putObject, access: 'write' },
  GetObject: { handler: getObject, access: 'object-read' },
  HeadObject: { handler: headObject, access: 'object-read' },
  GetObjectTagging: { handler: getObjectTagging, access: 'read' },
  PutObjectTagging: { handler: putObjectTagging, access: 'owner' },
  DeleteObjectTagging: { handler: deleteObjectTagging, access: 'owner' },
  DeleteObject: { handler: deleteObject, access: 'write' },
  DeleteObjects: { handler: deleteObjects, access: 'write' },
  CopyObject: { handler: copyObject, access: 'write' },
  CreateMultipartUpload: { handler: createMultipartUpload, access: 'write' },
  UploadPart: { handler: uploadPart, access: 'write' },
  UploadPartCopy: { handler: uploadPartCopy, access: 'write' },
  CompleteMultipartUpload: { handler: completeMultipartUpload, access: 'write' },
  AbortMultipartUpload: { handler: abortMultipartUpload, access: 'write' },
  ListParts: { handler: listParts, access: 'write' },
  ListMultipartUploads: { handler: listMultipartUploads, access: 'write' },
  PutBucketCors: { handler: putBucketCors, access: 'owner' },
  GetBucketCors: { handler: getBucketCors, access: 'owner' },
  DeleteBucketCors: { handler: deleteBucketCors, access: 'owner' },
  // Browser form uploads sign the form, not the request (see ops/post-object.ts).
  PostObject: { handler: postObject, access: 'none' },
  // CORS preflights never carry credentials.
  Preflight: { handler: preflight, access: 'none' },
};

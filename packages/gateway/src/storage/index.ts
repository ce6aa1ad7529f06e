export { corsXml, type PrepareBucketOptions, prepareBucket } from './admin.ts';
export { codeForStatus, isStorageError, StorageError } from './errors.ts';
export { S3Storage, type S3StorageOptions, type StorageConfig } from './s3.ts';
export type * from './types.ts';

export * from './chute-error.ts';
export { S3_CODES, type S3ErrorCode } from './s3-codes.ts';
export { isS3Error, S3Error } from './s3-error.ts';

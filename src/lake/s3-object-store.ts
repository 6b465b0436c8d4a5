/**
 * The lake on any S3 endpoint (real S3, Sluice's own S3 API, or another S3-compatible store),
 * behind the same ObjectStore contract as the local lake. This file is the one adapter over
 * `@aws-sdk/client-s3`: it maps the contract's calls to S3 operations and S3's errors to
 * LakeError codes.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  LakeError,
  type BucketInfo,
  type LakeErrorCode,
  type ListObjectsOptions,
  type ListObjectsPage,
  type ObjectInfo,
  type ObjectStore,
  type PutObjectOptions,
} from './index.ts';
import { isValidBucketName } from './bucket-name.ts';
import { compareKeys } from './key-order.ts';

/** Where the S3-backed lake lives. */
export interface S3ObjectStoreOptions {
  /** Endpoint URL; omit for AWS itself. */
  readonly endpoint?: string;
  readonly region: string;
  /** Static keys; omit to use the SDK's default chain (environment, profile, role). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Path-style addressing (most S3-compatible stores need it). */
  readonly forcePathStyle?: boolean;
  /** Lake bucket name → real bucket name, for buckets whose names differ on the endpoint. */
  readonly bucketMap?: Readonly<Record<string, string>>;
}

const CODES = new Set<string>([
  'NoSuchBucket',
  'NoSuchKey',
  'BucketNotEmpty',
  'BucketAlreadyOwnedByYou',
  'InvalidBucketName',
  'KeyTooLongError',
  'InvalidArgument',
]);

/** Turns an S3 failure into a LakeError with S3's code. */
function lakeError(error: unknown, bucket: string, key?: string): LakeError {
  if (error instanceof LakeError) return error;
  const name = error instanceof S3ServiceException ? error.name : '';
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  // HEAD answers carry no body, so only the status tells a missing key from a missing bucket.
  const code: LakeErrorCode = CODES.has(name)
    ? (name as LakeErrorCode)
    : status === 404
      ? key === undefined
        ? 'NoSuchBucket'
        : 'NoSuchKey'
      : name === 'BucketAlreadyExists'
        ? 'BucketAlreadyOwnedByYou'
        : 'InternalError';
  const where = key === undefined ? `bucket ${bucket}` : `s3://${bucket}/${key}`;
  return new LakeError(code, `${code} for ${where}: ${(error as Error).message}`);
}

/** Creates the S3-backed lake. */
export function createS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
  });
  const toReal = (bucket: string): string => options.bucketMap?.[bucket] ?? bucket;
  const fromReal = new Map(Object.entries(options.bucketMap ?? {}).map(([lake, real]) => [real, lake]));
  const checkKey = (key: string): void => {
    if (Buffer.byteLength(key) > 1024) {
      throw new LakeError(
        'KeyTooLongError',
        `Key of ${Buffer.byteLength(key)} bytes is longer than 1024 bytes.`,
      );
    }
  };

  const store: ObjectStore = {
    async createBucket(bucket) {
      if (!isValidBucketName(bucket))
        throw new LakeError('InvalidBucketName', `Invalid bucket name: ${bucket}`);
      try {
        await client.send(new CreateBucketCommand({ Bucket: toReal(bucket) }));
      } catch (error) {
        throw lakeError(error, bucket);
      }
    },
    async deleteBucket(bucket) {
      try {
        await client.send(new DeleteBucketCommand({ Bucket: toReal(bucket) }));
      } catch (error) {
        throw lakeError(error, bucket);
      }
    },
    async bucketExists(bucket) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: toReal(bucket) }));
        return true;
      } catch (error) {
        if (lakeError(error, bucket).code === 'NoSuchBucket') return false;
        throw lakeError(error, bucket);
      }
    },
    async listBuckets(): Promise<BucketInfo[]> {
      const answer = await client.send(new ListBucketsCommand({}));
      return (answer.Buckets ?? [])
        .map((b) => ({ name: fromReal.get(b.Name!) ?? b.Name!, created: b.CreationDate ?? new Date(0) }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async putObject(bucket, key, body, put: PutObjectOptions = {}): Promise<ObjectInfo> {
      checkKey(key);
      const md5 = createHash('md5').update(body);
      try {
        const answer = await client.send(
          new PutObjectCommand({
            Bucket: toReal(bucket),
            Key: key,
            Body: body,
            ContentMD5: md5.copy().digest('base64'),
            ...(put.contentType ? { ContentType: put.contentType } : {}),
            ...(put.metadata ? { Metadata: { ...put.metadata } } : {}),
          }),
        );
        return {
          key,
          size: body.length,
          lastModified: new Date(),
          etag: answer.ETag ?? `"${md5.digest('hex')}"`,
          ...(put.contentType ? { contentType: put.contentType } : {}),
          ...(put.metadata ? { metadata: { ...put.metadata } } : {}),
        };
      } catch (error) {
        throw lakeError(error, bucket, key);
      }
    },
    async getObject(bucket, key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: toReal(bucket), Key: key }));
        return Buffer.from(await answer.Body!.transformToByteArray());
      } catch (error) {
        throw lakeError(error, bucket, key);
      }
    },
    async headObject(bucket, key) {
      try {
        const answer = await client.send(new HeadObjectCommand({ Bucket: toReal(bucket), Key: key }));
        return {
          key,
          size: answer.ContentLength ?? 0,
          lastModified: answer.LastModified ?? new Date(0),
          etag: answer.ETag ?? '""',
          ...(answer.ContentType ? { contentType: answer.ContentType } : {}),
          ...(answer.Metadata ? { metadata: answer.Metadata } : {}),
        };
      } catch (error) {
        const failure = lakeError(error, bucket, key);
        if (failure.code === 'NoSuchKey') return undefined;
        throw failure;
      }
    },
    async deleteObject(bucket, key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: toReal(bucket), Key: key }));
      } catch (error) {
        throw lakeError(error, bucket, key);
      }
    },
    async listObjects(bucket, list: ListObjectsOptions = {}): Promise<ListObjectsPage> {
      try {
        const answer = await client.send(
          new ListObjectsV2Command({
            Bucket: toReal(bucket),
            MaxKeys: Math.min(list.maxKeys ?? 1000, 1000),
            ...(list.prefix ? { Prefix: list.prefix } : {}),
            ...(list.delimiter ? { Delimiter: list.delimiter } : {}),
            // After a common prefix, S3 must skip every key under it, not only the prefix itself.
            ...(list.startAfter
              ? {
                  StartAfter:
                    list.delimiter && list.startAfter.endsWith(list.delimiter)
                      ? `${list.startAfter}\u{10FFFF}`
                      : list.startAfter,
                }
              : {}),
          }),
        );
        const objects: ObjectInfo[] = (answer.Contents ?? []).map((o) => ({
          key: o.Key!,
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
          etag: o.ETag ?? '""',
        }));
        const commonPrefixes = (answer.CommonPrefixes ?? []).map((p) => p.Prefix!);
        const last = [...objects.map((o) => o.key), ...commonPrefixes].sort(compareKeys).pop();
        const truncated = answer.IsTruncated === true;
        return {
          objects,
          commonPrefixes,
          isTruncated: truncated,
          ...(truncated && last !== undefined ? { nextStartAfter: last } : {}),
        };
      } catch (error) {
        throw lakeError(error, bucket);
      }
    },
  };
  return store;
}

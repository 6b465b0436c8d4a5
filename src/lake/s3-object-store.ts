/**
 * The lake on any S3 endpoint (real S3, Sluice's own S3 API, or another S3-compatible store),
 * behind the same ObjectStore contract as the local lake. This file is the one adapter over
 * `@aws-sdk/client-s3`: it maps the contract's calls to S3 operations and S3's errors to
 * LakeError codes.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  CreateMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  type GetObjectCommandOutput,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  LakeError,
  type BucketInfo,
  type LakeErrorCode,
  type ListObjectsOptions,
  type ListObjectsPage,
  type ObjectInfo,
  type ObjectReader,
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

/** Size of the parts a streamed body is uploaded in (S3's minimum part is 5 MiB). */
const PART_BYTES = 8 * 1024 * 1024;

/** Cuts a stream into buffers of `size` bytes (the last one shorter). */
async function* partsOf(body: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    let at = 0;
    while (at < chunk.byteLength) {
      const take = Math.min(size - pendingBytes, chunk.byteLength - at);
      pending.push(chunk.subarray(at, at + take));
      pendingBytes += take;
      at += take;
      if (pendingBytes === size) {
        yield Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0 || pending.length === 0) yield Buffer.concat(pending, pendingBytes);
}

/** InvalidArgument when a streamed body's length is not the one announced. */
function checkLength(size: number, expected: number | undefined, key: string): void {
  if (expected !== undefined && size !== expected) {
    throw new LakeError(
      'InvalidArgument',
      `The body of ${key} holds ${size} bytes, not the ${expected} announced.`,
    );
  }
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
      const extra = {
        ...(put.contentType ? { ContentType: put.contentType } : {}),
        ...(put.metadata ? { Metadata: { ...put.metadata } } : {}),
      };
      const described = (size: number, etag: string): ObjectInfo => ({
        key,
        size,
        lastModified: new Date(),
        etag,
        ...(put.contentType ? { contentType: put.contentType } : {}),
        ...(put.metadata ? { metadata: { ...put.metadata } } : {}),
      });
      const putOne = async (bytes: Uint8Array): Promise<ObjectInfo> => {
        const md5 = createHash('md5').update(bytes).digest();
        const answer = await client.send(
          new PutObjectCommand({
            Bucket: toReal(bucket),
            Key: key,
            Body: bytes,
            ContentMD5: md5.toString('base64'),
            ...extra,
          }),
        );
        return described(bytes.byteLength, answer.ETag ?? `"${md5.toString('hex')}"`);
      };
      try {
        if (body instanceof Uint8Array) return await putOne(body);
        // A stream goes up in parts of PART_BYTES, so memory holds one part, not the object;
        // one that fits in a part is a plain PutObject with its MD5 checked by the endpoint.
        const parts = partsOf(body, PART_BYTES);
        const first = await parts.next();
        const firstPart = first.done === true ? Buffer.alloc(0) : first.value;
        if (firstPart.length < PART_BYTES) {
          checkLength(firstPart.length, put.contentLength, key);
          return await putOne(firstPart);
        }
        const created = await client.send(
          new CreateMultipartUploadCommand({ Bucket: toReal(bucket), Key: key, ...extra }),
        );
        const uploadId = created.UploadId!;
        try {
          const done: { PartNumber: number; ETag: string }[] = [];
          let size = 0;
          let part: Buffer | undefined = firstPart;
          for (let n = 1; part !== undefined; n++) {
            const answer = await client.send(
              new UploadPartCommand({
                Bucket: toReal(bucket),
                Key: key,
                UploadId: uploadId,
                PartNumber: n,
                Body: part,
                ContentMD5: createHash('md5').update(part).digest('base64'),
              }),
            );
            done.push({ PartNumber: n, ETag: answer.ETag ?? '' });
            size += part.length;
            const next = await parts.next();
            part = next.done === true || next.value.length === 0 ? undefined : next.value;
          }
          checkLength(size, put.contentLength, key);
          const completed = await client.send(
            new CompleteMultipartUploadCommand({
              Bucket: toReal(bucket),
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: done },
            }),
          );
          return described(size, completed.ETag ?? '""');
        } catch (error) {
          // The body failed or the endpoint refused a part: nothing may become visible.
          await client
            .send(new AbortMultipartUploadCommand({ Bucket: toReal(bucket), Key: key, UploadId: uploadId }))
            .catch(() => undefined);
          throw error;
        }
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
    async openObject(bucket, key): Promise<ObjectReader> {
      let answer: GetObjectCommandOutput;
      try {
        answer = await client.send(new GetObjectCommand({ Bucket: toReal(bucket), Key: key }));
      } catch (error) {
        throw lakeError(error, bucket, key);
      }
      const whole = answer.Body as Readable;
      const info: ObjectInfo = {
        key,
        size: answer.ContentLength ?? 0,
        lastModified: answer.LastModified ?? new Date(0),
        etag: answer.ETag ?? '""',
        ...(answer.ContentType ? { contentType: answer.ContentType } : {}),
        ...(answer.Metadata ? { metadata: answer.Metadata } : {}),
      };
      let used = false;
      return {
        info,
        stream: (range) => {
          if (used) throw new Error('ObjectReader.stream may be called once.');
          used = true;
          if (range === undefined) return whole;
          whole.destroy();
          // The range is read from the same version: If-Match fails should the object change.
          return Readable.from(
            (async function* () {
              const part = await client.send(
                new GetObjectCommand({
                  Bucket: toReal(bucket),
                  Key: key,
                  Range: `bytes=${range.start}-${range.end}`,
                  IfMatch: info.etag,
                }),
              );
              yield* part.Body as Readable;
            })(),
          );
        },
        close: async () => {
          if (used) return;
          used = true;
          whole.destroy();
        },
      };
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
          // Version 1 (Marker) rather than V2: the contract pages by key anyway, and some
          // S3-compatible stores cannot make V2's continuation tokens.
          new ListObjectsCommand({
            Bucket: toReal(bucket),
            MaxKeys: Math.min(list.maxKeys ?? 1000, 1000),
            ...(list.prefix ? { Prefix: list.prefix } : {}),
            ...(list.delimiter ? { Delimiter: list.delimiter } : {}),
            // After a common prefix, S3 must skip every key under it, not only the prefix itself.
            ...(list.startAfter
              ? {
                  Marker:
                    list.delimiter && list.startAfter.endsWith(list.delimiter)
                      ? `${list.startAfter}\u{10FFFF}`
                      : list.startAfter,
                }
              : {}),
          }),
        );
        let objects: ObjectInfo[] = (answer.Contents ?? []).map((o) => ({
          key: o.Key!,
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
          etag: o.ETag ?? '""',
        }));
        let commonPrefixes = (answer.CommonPrefixes ?? []).map((p) => p.Prefix!);
        const entries = [...objects.map((o) => o.key), ...commonPrefixes].sort(compareKeys);
        let truncated = answer.IsTruncated === true;
        // Some S3-compatible stores do not count common prefixes against MaxKeys; the page is
        // cut here so callers get the page size the contract promises.
        const maxKeys = Math.max(0, Math.min(list.maxKeys ?? 1000, 1000));
        if (entries.length > maxKeys) {
          const kept = new Set(entries.slice(0, maxKeys));
          objects = objects.filter((o) => kept.has(o.key));
          commonPrefixes = commonPrefixes.filter((p) => kept.has(p));
          entries.length = maxKeys;
          truncated = true;
        }
        const last = entries.at(-1);
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

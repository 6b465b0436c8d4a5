/**
 * The data lake: an S3-shaped object store. Delivery streams write objects and manifests
 * here; COPY reads from here; `sluice lake` manages it from the shell. The default
 * implementation is a local directory with one folder per bucket; a later stage serves
 * the same contract over the S3 REST API and implements it again on real S3.
 *
 * CONTRACT
 * - putObject is atomic: a reader sees the old object, or the whole new one, never a part.
 *   Once putObject resolves, the object is durable (fsynced).
 * - A body may be bytes in memory or a stream. A stream is read once and never held whole in
 *   memory; if it fails (its iterator throws, for example because a client went away or a
 *   checksum computed along the way did not match), or its length is not the contentLength
 *   given, nothing is written and putObject rejects with that error.
 * - openObject reads one version: the reader gets the object as it was when opened, even if
 *   it is replaced or deleted while the bytes are streamed.
 * - listObjects returns keys in UTF-8 binary order, as S3 does; with a delimiter it rolls
 *   keys up into common prefixes.
 * - Errors are LakeError with S3's error code names.
 */

import type { Readable } from 'node:stream';

/** Facts about one stored object. */
export interface ObjectInfo {
  /** The object's key. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
  /** Last write time. */
  readonly lastModified: Date;
  /** S3-style ETag, quoted: `"<md5 hex>"`. */
  readonly etag: string;
  /** Content-Type given at write time, if any. */
  readonly contentType?: string;
  /** User metadata given at write time (x-amz-meta-*), lower-case keys. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A bucket. */
export interface BucketInfo {
  /** Bucket name. */
  readonly name: string;
  /** Creation time. */
  readonly created: Date;
}

/** What to list. */
export interface ListObjectsOptions {
  /** Only keys that start with this string. */
  readonly prefix?: string;
  /** Roll keys up to the first delimiter after the prefix into common prefixes. */
  readonly delimiter?: string;
  /** Only keys (or common prefixes) sorting strictly after this one. */
  readonly startAfter?: string;
  /** Most entries (objects plus common prefixes) to return; default 1000. */
  readonly maxKeys?: number;
}

/** One page of a listing. */
export interface ListObjectsPage {
  /** Objects in key order. */
  readonly objects: readonly ObjectInfo[];
  /** Common prefixes in order (only with a delimiter). */
  readonly commonPrefixes: readonly string[];
  /** True when more entries follow. */
  readonly isTruncated: boolean;
  /** Pass as startAfter to get the next page (set when truncated). */
  readonly nextStartAfter?: string;
}

/** An object's bytes: in memory, or a stream read once (see the contract above). */
export type ObjectBody = Uint8Array | AsyncIterable<Uint8Array>;

/** A byte range of an object, both ends inclusive, as in an HTTP Range header. */
export interface ByteRange {
  /** First byte. */
  readonly start: number;
  /** Last byte (inclusive). */
  readonly end: number;
}

/** An object opened for reading (see openObject). */
export interface ObjectReader {
  /** The object's facts. */
  readonly info: ObjectInfo;
  /** Streams the bytes, all of them or one range; call it once, or call close instead. */
  stream(range?: ByteRange): Readable;
  /** Lets go of the object without reading it. */
  close(): Promise<void>;
}

/** Options for writing an object. */
export interface PutObjectOptions {
  /** Content-Type to store. */
  readonly contentType?: string;
  /** Length of a streamed body, when known; a stream that ends at another length writes nothing. */
  readonly contentLength?: number;
  /** User metadata to store. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** An S3-shaped object store. */
export interface ObjectStore {
  /** Creates a bucket; LakeError BucketAlreadyOwnedByYou if it exists, InvalidBucketName if the name is not valid S3. */
  createBucket(bucket: string): Promise<void>;
  /** Deletes an empty bucket; BucketNotEmpty or NoSuchBucket otherwise. */
  deleteBucket(bucket: string): Promise<void>;
  /** True when the bucket exists. */
  bucketExists(bucket: string): Promise<boolean>;
  /** All buckets, by name. */
  listBuckets(): Promise<BucketInfo[]>;
  /** Writes an object atomically and durably; NoSuchBucket if the bucket is missing. */
  putObject(bucket: string, key: string, body: ObjectBody, options?: PutObjectOptions): Promise<ObjectInfo>;
  /** Reads a whole object into memory; NoSuchKey / NoSuchBucket when missing. */
  getObject(bucket: string, key: string): Promise<Buffer>;
  /** Opens an object to stream it; NoSuchKey / NoSuchBucket when missing. */
  openObject(bucket: string, key: string): Promise<ObjectReader>;
  /** Facts about an object, or undefined when it does not exist. */
  headObject(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** Deletes an object; deleting a missing key succeeds, as in S3. */
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Lists one page of objects. */
  listObjects(bucket: string, options?: ListObjectsOptions): Promise<ListObjectsPage>;
}

/** S3 error codes the lake raises. */
export type LakeErrorCode =
  | 'NoSuchBucket'
  | 'NoSuchKey'
  | 'BucketNotEmpty'
  | 'BucketAlreadyOwnedByYou'
  | 'InvalidBucketName'
  | 'KeyTooLongError'
  | 'InvalidArgument'
  | 'InternalError';

/** A lake failure named with S3's error code. */
export class LakeError extends Error {
  override readonly name = 'LakeError';
  /** Creates an error with an S3 error code. */
  constructor(
    readonly code: LakeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** An `s3://bucket/key` location. */
export interface S3Location {
  /** Bucket name. */
  readonly bucket: string;
  /** Key or key prefix (may be empty). */
  readonly key: string;
}

export { createLocalObjectStore, type LocalObjectStoreOptions } from './local-object-store.ts';
export { createS3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts';
export { parseS3Url, formatS3Url, listAllObjects } from './s3-url.ts';
export { isValidBucketName } from './bucket-name.ts';
export { compareKeys } from './key-order.ts';

/**
 * The S3 REST API over the lake: buckets, objects, listings and multipart uploads, served
 * as a node:http request handler on the AWS port beside the Firehose API.
 *
 * CONTRACT
 * - Path-style (`/<bucket>/<key>`) and virtual-host-style (`Host: <bucket>.localhost[:port]`
 *   or `<bucket>.s3.<anything>`) addressing; keys are URL-decoded from the path.
 * - Every request carries SigV4 (Authorization header or presigned query), signed for
 *   service `s3` in any region. With credentials configured the signature, aws-chunked chunk
 *   signatures and a signed payload hash are verified; with none, any well-formed signature
 *   is accepted. Unsigned requests are refused (AccessDenied).
 * - Errors are S3's XML `<Error>` documents, mapped in one table (`errors.ts`). A bad request
 *   is answered with an error and never crashes the server; an unexpected failure answers
 *   500 InternalError and is logged.
 * - Object and part bodies stream: PutObject and UploadPart pass the bytes once, to a temp
 *   file, computing MD5, the x-amz-checksum-* algorithms and the SHA-256 that a signed
 *   x-amz-content-sha256 names, decoding aws-chunked on the way (./upload-body.ts); a failed
 *   check or a client gone midway leaves nothing. GetObject streams from the open file, so a
 *   request costs a few buffers whatever the object's size. Completing a multipart upload
 *   streams the parts into the object. Other bodies (XML documents, at most 2 MiB) and an
 *   upload whose signature covers the body's bytes directly (no signed x-amz-content-sha256)
 *   are read into memory first.
 * - Multipart uploads not completed within `multipartExpiryMs` (default 7 days) are removed
 *   with their parts: swept at start and every `multipartSweepMs` (default 1 hour).
 * - Objects have no versions: versioning reads as never enabled, and every version listed
 *   is `null` and latest.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ObjectStore } from '../lake/index.ts';
import type { Logger } from '../util/logger.ts';

/** An AWS access key that may sign requests. */
export interface S3AccessKey {
  /** The access key id. */
  readonly accessKeyId: string;
  /** Its secret. */
  readonly secretAccessKey: string;
}

/** Options of the S3 API. */
export interface S3ApiOptions {
  /** The lake the API serves. */
  readonly store: ObjectStore;
  /** Keys that may sign; undefined or empty accepts any well-formed SigV4 signature. */
  readonly credentials?: readonly S3AccessKey[];
  /** The region GetBucketLocation and HeadBucket report (default us-east-1). */
  readonly region?: string;
  /** Where failures are logged (default: nowhere). */
  readonly logger?: Logger;
  /** Largest object, single PUT or completed multipart upload, in bytes (default 1 GiB; S3's own PUT limit is 5 GiB). */
  readonly maxObjectBytes?: number;
  /** Folder for multipart uploads in progress (default `<os tmpdir>/sluice-multipart-<pid>`). */
  readonly multipartDir?: string;
  /** Largest accepted clock difference of a signed request (default 15 minutes, as S3). */
  readonly maxClockSkewMs?: number;
  /** Smallest size of every part but the last when completing (default 5 MiB, as S3). */
  readonly minPartBytes?: number;
  /** Age after which an unfinished multipart upload and its parts are removed (default 7 days). */
  readonly multipartExpiryMs?: number;
  /** How often expired multipart uploads are swept, besides once at start (default 1 hour). */
  readonly multipartSweepMs?: number;
}

/** The S3 API as a request handler. */
export interface S3Api {
  /** Serves one request; never throws, always answers (unless the client went away). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Removes expired multipart uploads now; resolves with how many were removed. */
  sweepUploads(): Promise<number>;
  /** Stops the periodic sweep. */
  close(): void;
}

export { createS3Api } from './s3-api.ts';

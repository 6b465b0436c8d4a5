/**
 * An upload's body (PutObject, UploadPart) read as a stream: the bytes pass through once, on
 * their way to a file, while everything S3 checks is computed alongside them, so an object of
 * any size costs a few buffers of memory:
 *
 *   - aws-chunked framing is decoded (and chunk signatures checked) piece by piece;
 *   - the SHA-256 of the raw body, when `x-amz-content-sha256` names one (the signature
 *     covers that header, not the bytes, so the bytes must be checked against it);
 *   - the MD5 for Content-MD5 and each `x-amz-checksum-*` algorithm named in a header or
 *     announced by `x-amz-trailer`;
 *   - the decoded length against `x-amz-decoded-content-length` and the size limit.
 *
 * Every check that can only be made at the end is made before the last byte is handed on:
 * the iterator throws instead of ending, and the ObjectStore contract then writes nothing.
 * A client that goes away mid-body makes the iterator throw too.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  checksumHeaderAlgorithm,
  checksumHasher,
  verifyStreamedChecksums,
  type ChecksumAlgorithm,
  type ChecksumHasher,
} from './checksums.ts';
import { AwsChunkedDecoder, type ChunkVerification } from './chunked.ts';
import { S3Error } from './errors.ts';

/** How to read one upload body. */
export interface UploadBodyOptions {
  /** True when the body is aws-chunked. */
  readonly chunked: boolean;
  /** Chunk signatures to check (signed aws-chunked with known credentials). */
  readonly verification?: ChunkVerification;
  /** Largest decoded body, in bytes (EntityTooLarge past it). */
  readonly limit: number;
  /** Checksums the client sent in headers. */
  readonly checksums: ReadonlyMap<ChecksumAlgorithm, string>;
}

/** A streamed upload body. */
export interface UploadBody {
  /** The decoded bytes; throws at the end, not ends, when a check fails. */
  readonly data: AsyncIterable<Buffer>;
  /** The checksum headers to echo in the answer; valid once `data` has ended. */
  echo(): Record<string, string>;
}

/** Wraps a request whose body is an object or a part. */
export function uploadBody(req: IncomingMessage, options: UploadBodyOptions): UploadBody {
  let echo: Record<string, string> | undefined;
  const data = read(req, options, (e) => {
    echo = e;
  });
  return {
    data,
    echo: () => {
      if (echo === undefined) throw new Error('The upload body has not been read to its end.');
      return echo;
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

async function* read(
  req: IncomingMessage,
  options: UploadBodyOptions,
  done: (echo: Record<string, string>) => void,
): AsyncGenerator<Buffer> {
  const contentSha = header(req, 'x-amz-content-sha256');
  const sha =
    contentSha !== undefined && /^[0-9a-f]{64}$/.test(contentSha) ? createHash('sha256') : undefined;
  const decoder = options.chunked ? new AwsChunkedDecoder(options.verification) : undefined;
  const contentMd5 = header(req, 'content-md5');
  let expectedMd5: Buffer | undefined;
  if (contentMd5 !== undefined) {
    expectedMd5 = Buffer.from(contentMd5, 'base64');
    if (expectedMd5.length !== 16 || expectedMd5.toString('base64') !== contentMd5.trim())
      throw new S3Error('InvalidDigest');
  }
  const md5 = expectedMd5 !== undefined ? createHash('md5') : undefined;
  const promised = header(req, 'x-amz-trailer');
  const promisedAlg =
    promised === undefined ? undefined : checksumHeaderAlgorithm(promised.trim().toLowerCase());
  const hashers = new Map<ChecksumAlgorithm, ChecksumHasher>();
  for (const alg of [...options.checksums.keys(), ...(promisedAlg !== undefined ? [promisedAlg] : [])]) {
    const hasher = checksumHasher(alg);
    if (hasher !== undefined) hashers.set(alg, hasher);
  }
  // The framing adds a few bytes per chunk; the decoded size is what the limit is about.
  const rawLimit = options.chunked
    ? options.limit + Math.ceil(options.limit / 64) + 64 * 1024
    : options.limit;
  let rawBytes = 0;
  let size = 0;
  const take = (piece: Buffer): Buffer => {
    size += piece.length;
    if (size > options.limit) throw new S3Error('EntityTooLarge');
    md5?.update(piece);
    for (const hasher of hashers.values()) hasher.update(piece);
    return piece;
  };
  // Not destroyed when a check fails midway, so the error can still be answered.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    rawBytes += chunk.length;
    if (rawBytes > rawLimit) throw new S3Error('EntityTooLarge');
    sha?.update(chunk);
    if (decoder === undefined) yield take(chunk);
    else for (const piece of decoder.push(chunk)) yield take(piece);
  }
  if (!req.complete) throw new S3Error('IncompleteBody');
  if (sha !== undefined && sha.digest('hex') !== contentSha) throw new S3Error('XAmzContentSHA256Mismatch');
  const given = new Map(options.checksums);
  if (decoder !== undefined) {
    const trailers = decoder.end();
    const declared = header(req, 'x-amz-decoded-content-length');
    if (declared !== undefined && Number(declared) !== size) {
      throw new S3Error(
        'IncompleteBody',
        `The body holds ${size} bytes but x-amz-decoded-content-length says ${declared}.`,
      );
    }
    for (const [name, value] of trailers) {
      const alg = checksumHeaderAlgorithm(name);
      if (alg !== undefined) given.set(alg, value);
    }
    if (promisedAlg !== undefined && !given.has(promisedAlg)) {
      throw new S3Error('IncompleteBody', `The trailer ${promised} was promised but not sent.`);
    }
  }
  if (md5 !== undefined && !md5.digest().equals(expectedMd5 as Buffer)) {
    throw new S3Error('BadDigest', undefined, { ExpectedDigest: contentMd5 as string });
  }
  done(verifyStreamedChecksums(given, hashers));
}
